"""The built site in Debian's Chromium: MathJax, instant navigation, palette, search, requests.

Playwright's Python package drives /usr/bin/chromium; `playwright install` is never used.
The site is served by ``python -m http.server`` on 127.0.0.1 from a free port.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from mkdocs.utils.yaml import yaml_load
from playwright.sync_api import Browser, sync_playwright
from sitetools import (
    REPO,
    BuiltSite,
    build_or_fail,
    contrast,
    copy_fixture_site,
    free_port,
    luminance,
    mentions,
    real_site,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium contacts Google's services at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's waits, in milliseconds: long enough for MathJax on a loaded 2-core machine.
WAIT_MS = 30_000
NOTE = "sigmoid/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return real_site(tmp_path_factory)


@pytest.fixture(scope="module")
def site(built: BuiltSite) -> Path:
    return built.path


def wait_for_server(port: int, server: subprocess.Popen[bytes]) -> None:
    """Wait until the HTTP server accepts connections; fail if it exits first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"python -m http.server exited with status {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"python -m http.server did not listen on 127.0.0.1:{port} within 30 s")


@contextlib.contextmanager
def serve(site_dir: Path, url: str) -> Iterator[str]:
    """Serve ``site_dir`` at ``url``, an address on 127.0.0.1, and yield the address."""
    port = urlsplit(url).port
    assert port is not None
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=site_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_server(port, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def base_url(built: BuiltSite) -> Iterator[str]:
    """Return the address of the real site, served on 127.0.0.1."""
    with serve(built.path, built.url) as url:
        yield url


@pytest.fixture(scope="module")
def search_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the search fixture site with the real site's search settings and word lists."""
    config_file = copy_fixture_site("site_search", tmp_path_factory.mktemp("search") / "site")
    with (REPO / "mkdocs.yml").open(encoding="utf-8") as file:
        real_config = yaml_load(file)
    settings = {
        "exclude_docs": real_config["exclude_docs"],
        "plugins": [plugin for plugin in real_config["plugins"] if "search" in plugin],
    }
    with config_file.open("a", encoding="utf-8") as file:
        file.write(yaml.safe_dump(settings, allow_unicode=True))
    # hooks/search.py reads the term list, and resolves the jieba dictionary's path, relative
    # to the fixture's mkdocs.yml.
    assets = config_file.parent / "docs" / "assets"
    assets.mkdir()
    for name in ("terms.yml", "jieba_user_dict.txt"):
        shutil.copyfile(REPO / "docs" / "assets" / name, assets / name)

    return build_or_fail(config_file, config_file.parent / "out", "--strict")


@pytest.fixture(scope="module")
def search_site_url(search_site: Path) -> Iterator[str]:
    """Return the address of the search fixture site, served on 127.0.0.1."""
    # The fixture's site_url names port 8000, but instant navigation is not used here.
    with serve(search_site, f"http://127.0.0.1:{free_port()}/") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing, so the browser tests cannot run.\n"
            "Fix: install Debian's Chromium with `sudo apt-get install chromium`, "
            "or deselect these tests with `-m 'not browser'`."
        )
    with sync_playwright() as playwright:
        # Playwright starts Chromium with a new, empty user-data-dir of its own.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class Visit:
    """A fresh browser context and page that record every request and script error."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def off_site_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname != "127.0.0.1"
        ]


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    session = Visit(browser)
    yield session
    session.context.close()


def wait_for_math(visit: Visit) -> None:
    """Wait until MathJax has typeset every arithmatex element of the page."""
    visit.page.wait_for_selector("article mjx-container")
    visit.page.wait_for_function(
        "() => [...document.querySelectorAll('article .arithmatex')]"
        ".every(element => element.querySelector('mjx-container'))"
    )


# Returns the CHTML character classes (one per glyph) that MathJax's stylesheet has no rule
# for. Without its rule a glyph has no content and the formula shows as blank space.
GLYPHS_WITHOUT_CSS_JS = r"""
() => {
  const sheet = document.getElementById("MJX-CHTML-styles");
  const css = sheet ? sheet.textContent : "";
  const classes = new Set();
  for (const glyph of document.querySelectorAll("article mjx-c")) {
    for (const name of glyph.classList) {
      if (name.startsWith("mjx-c")) classes.add(name);
    }
  }
  // A rule reads "mjx-c.mjx-c28::before", or "mjx-c.mjx-c1D70E.TEX-I::before" for a variant.
  return [...classes].filter(
    (name) => !new RegExp("\\." + name + "(\\.[\\w-]+)*::before").test(css)
  );
}
"""


def glyphs_without_css(visit: Visit) -> list[str]:
    missing: list[str] = visit.page.evaluate(GLYPHS_WITHOUT_CSS_JS)
    return missing


def untypeset_count(visit: Visit) -> int:
    count: int = visit.page.eval_on_selector_all(
        "article .arithmatex",
        "elements => elements.filter(e => !e.querySelector('mjx-container')).length",
    )
    return count


# --- MathJax and instant navigation ---


@pytest.mark.parametrize("path", [NOTE, "api/"])
def test_mathjax_typesets_first_load(visit: Visit, base_url: str, path: str) -> None:
    visit.page.goto(base_url + path)
    wait_for_math(visit)

    assert visit.page.locator("article mjx-container").count() > 0
    assert untypeset_count(visit) == 0
    assert glyphs_without_css(visit) == []
    assert visit.errors == []


def test_mathjax_after_instant_navigation(visit: Visit, base_url: str) -> None:
    visit.page.goto(base_url)
    # A full page load would drop this marker; instant navigation keeps it.
    visit.page.evaluate("window.__instantMarker = 'kept'")

    visit.page.click(f'article a[href$="{NOTE}"]')
    visit.page.wait_for_url(f"**/{NOTE}")
    wait_for_math(visit)

    assert visit.page.evaluate("window.__instantMarker") == "kept"
    assert untypeset_count(visit) == 0
    assert glyphs_without_css(visit) == []

    # Away to a page without math and back: MathJax must typeset the note again.
    visit.page.click(".md-header a.md-logo")
    visit.page.wait_for_url(base_url)
    visit.page.click(f'article a[href$="{NOTE}"]')
    visit.page.wait_for_url(f"**/{NOTE}")
    wait_for_math(visit)

    assert visit.page.evaluate("window.__instantMarker") == "kept"
    assert untypeset_count(visit) == 0
    assert glyphs_without_css(visit) == []
    assert visit.errors == []


# --- palette ---


# Returns [text colour, background colour] as RGBA lists, for the figure's text drawn in
# currentColor and for the page behind it.
FIGURE_COLOURS_JS = """
() => {
  const rgba = (value) => {
    const probe = document.createElement("canvas").getContext("2d");
    probe.fillStyle = value;
    const hex = probe.fillStyle;
    if (hex.startsWith("#")) {
      return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).concat([1]);
    }
    return hex.match(/[\\d.]+/g).map(Number);
  };
  const figure = document.querySelector("article svg.notes-figure");
  // Matplotlib draws each text as a group of glyph paths inside <g id="..text_N">.
  const text = figure.querySelector("g[id*='text_'] g[style*='fill: currentColor']");
  const fill = getComputedStyle(text).fill;
  const background = getComputedStyle(document.body).backgroundColor;
  return [rgba(fill), rgba(background)];
}
"""


def blend(foreground: list[float], background: list[float]) -> tuple[float, float, float]:
    alpha = foreground[3] if len(foreground) > 3 else 1.0
    red, green, blue = (alpha * foreground[i] + (1 - alpha) * background[i] for i in range(3))
    return red, green, blue


def figure_text_contrast(visit: Visit) -> tuple[float, float]:
    """Return the figure text's contrast with the page, and the page's luminance."""
    fill, background = visit.page.evaluate(FIGURE_COLOURS_JS)
    page = blend(background, [255, 255, 255])
    return contrast(blend(fill, page), page), luminance(page)


def test_palette_toggle_recolours_figure(visit: Visit, base_url: str) -> None:
    visit.page.goto(base_url + NOTE)
    visit.page.wait_for_selector("article svg.notes-figure")
    light_contrast, light_page = figure_text_contrast(visit)

    visit.page.click("label[for='__palette_1']")
    visit.page.wait_for_function("() => document.body.dataset.mdColorScheme === 'slate'")
    dark_contrast, dark_page = figure_text_contrast(visit)

    assert light_page > 0.5
    assert dark_page < 0.1
    # WCAG 2 requires a contrast of 4.5:1 for text.
    assert light_contrast >= 4.5
    assert dark_contrast >= 4.5


# --- search ---


# Material's result count message for two or more result pages; the messages for none and one
# end in the same phrase.
RESULT_COUNT = re.compile(r"(\d+) 个符合条件的结果")
RESULT_ITEMS = "li.md-search-result__item"
# Material adds the next 4 result pages when the list's scroll position reaches its end from
# above, so this leaves the end first. Its scroll handler runs on an animation frame.
SCROLL_RESULTS_TO_END_JS = """
async () => {
  const list = document.querySelector(".md-search__scrollwrap");
  const frames = (count) => new Promise((resolve) => {
    const next = () => (count-- > 0 ? requestAnimationFrame(next) : resolve());
    next();
  });
  list.scrollTop = 0;
  await frames(2);
  list.scrollTop = list.scrollHeight;
  await frames(2);
}
"""


def result_count(meta: str) -> int:
    """Return the number of result pages in Material's result count message."""
    if meta == "没有找到符合条件的结果":
        return 0
    if meta == "找到 1 个符合条件的结果":
        return 1
    match = RESULT_COUNT.fullmatch(meta)
    assert match is not None, f"unknown result count message {meta!r}"
    return int(match[1])


def search(visit: Visit, query: str) -> list[str]:
    """Type ``query`` into Material's search and return the paths of all result pages.

    Material lists the first 10 result pages and shows the rest as the reader scrolls the
    list, so this scrolls until the list contains as many pages as the result count states.
    """
    search_box = visit.page.locator("input[data-md-component='search-query']")
    search_box.fill(query)
    # Material reads the query on keyup, which fill() does not send.
    search_box.press("End")
    # Every result count message, none included, ends in this phrase.
    visit.page.wait_for_function(
        "() => document.querySelector('.md-search-result__meta')"
        ".textContent.includes('符合条件的结果')"
    )
    meta = visit.page.locator(".md-search-result__meta").text_content() or ""
    count = result_count(meta.strip())

    items = visit.page.locator(RESULT_ITEMS)
    while (shown := items.count()) < count:
        visit.page.evaluate(SCROLL_RESULTS_TO_END_JS)
        visit.page.wait_for_function(
            f"shown => document.querySelectorAll('{RESULT_ITEMS}').length > shown", arg=shown
        )

    hrefs: list[str] = visit.page.eval_on_selector_all(
        "a.md-search-result__link", "links => links.map(link => link.href)"
    )
    paths = sorted({urlsplit(href).path for href in hrefs})
    # Material lists each result page once, with its matching sections inside.
    assert items.count() == count, f"{query}: {meta!r} but {items.count()} result pages listed"
    assert len(paths) == count, f"{query}: {meta!r} but links to {paths}"
    return paths


def pages_mentioning(site: Path, term: str) -> list[str]:
    """Return the paths of the pages whose indexed text has ``term`` as a whole word."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    return sorted(
        {
            "/" + doc["location"].split("#")[0]
            for doc in index["docs"]
            if mentions((doc["title"] + " " + doc["text"]).replace("\u200b", ""), term)
        }
    )


@pytest.mark.parametrize("term", ["梯度消失", "ReLU", "ONNX"])
def test_search_finds_term(visit: Visit, base_url: str, site: Path, term: str) -> None:
    expected = pages_mentioning(site, term)
    visit.page.goto(base_url)

    found = search(visit, term)

    assert expected, f"no page mentions {term}"
    assert set(expected) <= set(found)


# In the search fixture, whole.md contains 梯度 and 消失 only inside the token 梯度消失.


def test_search_matches_term_prefix(visit: Visit, search_site_url: str) -> None:
    visit.page.goto(search_site_url)

    found = search(visit, "梯度")

    assert found == ["/whole/"]


def indexed_words(site_dir: Path, location: str) -> dict[str, list[str]]:
    """Return {field: words} of a page in the site's search index, split by its separator."""
    index = json.loads((site_dir / "search" / "search_index.json").read_text(encoding="utf-8"))
    separator = re.compile(index["config"]["separator"])
    words: dict[str, list[str]] = {}
    for doc in index["docs"]:
        if doc["location"].split("#")[0] != location:
            continue
        for field in ("title", "text", "parts"):
            text = re.sub(r"<[^>]+>", " ", doc.get(field, ""))
            words.setdefault(field, []).extend(w for w in separator.split(text) if w)
    return words


def test_search_matches_term_suffix(visit: Visit, search_site: Path, search_site_url: str) -> None:
    visit.page.goto(search_site_url)

    found = search(visit, "消失")

    # Lunr matches the start of a word only: 消失 finds the page through the parts field that
    # hooks/search.py adds, while the text keeps 梯度消失 as one word. docs/about.md states
    # for readers that a part of a word finds it.
    assert found == ["/whole/"]
    words = indexed_words(search_site, "whole/")
    assert "梯度消失" in words["text"]
    assert "消失" not in words["title"] + words["text"]
    assert "消失" in words["parts"]


def test_search_matches_whole_term(visit: Visit, search_site_url: str) -> None:
    visit.page.goto(search_site_url)

    found = search(visit, "梯度消失")

    assert found == ["/whole/"]


# --- requests ---


def test_no_request_leaves_localhost(visit: Visit, base_url: str) -> None:
    for path in ("", NOTE, "api/", "about/", "404.html"):
        visit.page.goto(base_url + path)
        visit.page.wait_for_load_state("networkidle")
    wait_for_math_on(visit, base_url + NOTE)
    visit.page.click("label[for='__palette_1']")
    search(visit, "ReLU")
    visit.page.wait_for_load_state("networkidle")

    assert any(url.endswith("/assets/mathjax/tex-chtml.js") for url in visit.requests)
    assert any(url.endswith("/search/search_index.json") for url in visit.requests)
    assert visit.off_site_requests() == []


def wait_for_math_on(visit: Visit, url: str) -> None:
    visit.page.goto(url)
    wait_for_math(visit)

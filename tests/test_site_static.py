"""The built site, checked statically: what a browser would load, search tokens, footer, bytes."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import matplotlib
import numpy
import pytest
from sitetools import REPO, BuiltSite, build_or_fail, contrast, mentions, real_site

pytestmark = pytest.mark.slow

CONFIG_SCRIPT = "javascripts/mathjax.js"
MATHJAX_SCRIPT = "assets/mathjax/tex-chtml.js"
MATHJAX_ES5 = REPO / "node_modules" / "mathjax" / "es5"

# Attributes through which a page makes the browser fetch something.
RESOURCE_ATTRIBUTES = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("img", "srcset"),
    ("iframe", "src"),
    ("frame", "src"),
    ("source", "src"),
    ("source", "srcset"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("input", "src"),
    ("image", "href"),
    ("image", "xlink:href"),
    ("use", "href"),
    ("use", "xlink:href"),
}
# <link rel> values that only describe a relation and make the browser fetch nothing.
NON_LOADING_RELS = {"canonical", "alternate", "next", "prev", "author", "license", "help"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return real_site(tmp_path_factory)


@pytest.fixture(scope="module")
def site(built: BuiltSite) -> Path:
    return built.path


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[str, str]:
    """Map each built HTML file, relative to the site, to its text."""
    return {
        path.relative_to(site).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(site.rglob("*.html"))
    }


class ResourceParser(HTMLParser):
    """Collect every URL a page fetches, its <script src> order and its inline CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self.css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        rels = set(values.get("rel", "").lower().split())
        for name, value in values.items():
            if (tag, name) not in RESOURCE_ATTRIBUTES:
                continue
            if tag == "link" and rels and rels <= NON_LOADING_RELS:
                continue
            urls = [part.split()[0] for part in value.split(",") if part.strip()]
            if not name.endswith("srcset"):
                urls = [value]
            self.resources.extend((f"<{tag} {name}>", url) for url in urls)

        if tag == "script" and "src" in values:
            self.scripts.append(values["src"])
        if "style" in values:
            self.css.append(values["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css.append(data)


def parse(html: str) -> ResourceParser:
    parser = ResourceParser()
    parser.feed(html)
    parser.close()
    return parser


def is_off_site(url: str) -> bool:
    """Return True for a URL that names a host other than this machine."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return False
    return bool(parts.netloc) and parts.hostname not in ("127.0.0.1", "localhost")


def css_urls(css: str) -> list[str]:
    return [url or imported for url, imported in CSS_URL.findall(css)]


def site_path(html_path: str, url: str) -> str:
    """Resolve ``url`` as written in ``html_path`` to a path relative to the site root."""
    resolved = urlsplit(urljoin(f"http://site.invalid/{html_path}", url)).path
    return resolved.removeprefix("/")


# --- nothing is loaded from another host ---


def test_pages_load_nothing_off_site(pages: dict[str, str]) -> None:
    off_site = [
        f"{html_path}: {where} {url}"
        for html_path, html in pages.items()
        for where, url in parse(html).resources
        if is_off_site(url)
    ]

    assert off_site == []


def test_inline_css_loads_nothing_off_site(pages: dict[str, str]) -> None:
    off_site = [
        f"{html_path}: {url}"
        for html_path, html in pages.items()
        for css in parse(html).css
        for url in css_urls(css)
        if is_off_site(url)
    ]

    assert off_site == []


def test_stylesheets_load_nothing_off_site(site: Path) -> None:
    off_site = [
        f"{path.relative_to(site)}: {url}"
        for path in sorted(site.rglob("*.css"))
        for url in css_urls(path.read_text(encoding="utf-8"))
        if is_off_site(url)
    ]

    assert off_site == []


def test_google_fonts_disabled(pages: dict[str, str]) -> None:
    for html_path, html in pages.items():
        assert "fonts.googleapis.com" not in html, html_path
        assert "fonts.gstatic.com" not in html, html_path


def test_docs_page_links_note_by_md_path(pages: dict[str, str]) -> None:
    # docs/index.md writes ../notebooks/sigmoid.md, as in the repository; the site serves
    # the note at /sigmoid/.
    assert '<a href="sigmoid/">' in pages["index.html"]
    assert (REPO / "notebooks" / "sigmoid.md").is_file()
    assert "../notebooks/sigmoid.md" in (REPO / "docs" / "index.md").read_text(encoding="utf-8")


# --- MathJax ---


def test_mathjax_config_loads_first(pages: dict[str, str]) -> None:
    for html_path, html in pages.items():
        scripts = [site_path(html_path, src) for src in parse(html).scripts]

        assert CONFIG_SCRIPT in scripts, html_path
        assert MATHJAX_SCRIPT in scripts, html_path
        assert scripts.index(CONFIG_SCRIPT) < scripts.index(MATHJAX_SCRIPT), html_path


def test_mathjax_config_retypesets_on_navigation(site: Path) -> None:
    config = (site / CONFIG_SCRIPT).read_text(encoding="utf-8")

    assert "document$.subscribe(" in config
    assert "typesetPromise()" in config
    assert 'processHtmlClass: "arithmatex"' in config


def test_mathjax_es5_shipped_whole(site: Path) -> None:
    shipped = site / "assets" / "mathjax"
    expected = {p.relative_to(MATHJAX_ES5) for p in MATHJAX_ES5.rglob("*") if p.is_file()}

    assert {p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file()} == expected
    for extension in ("ams.js", "boldsymbol.js", "newcommand.js", "require.js"):
        assert (shipped / "input" / "tex" / "extensions" / extension).is_file()
    assert (shipped / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_api_page_math_typesettable(pages: dict[str, str]) -> None:
    html = pages["api/index.html"]

    assert ".. math::" not in html
    assert ":math:" not in html
    assert '<div class="arithmatex">' in html


# --- search ---


@pytest.fixture(scope="module")
def search_index(site: Path) -> dict[str, object]:
    index: dict[str, object] = json.loads(
        (site / "search" / "search_index.json").read_text(encoding="utf-8")
    )
    return index


def tokens_by_location(search_index: dict[str, object]) -> dict[str, list[str]]:
    """Split every indexed text as Material's search does: separator, then lower case."""
    config = search_index["config"]
    assert isinstance(config, dict)
    separator = re.compile(config["separator"])
    docs = search_index["docs"]
    assert isinstance(docs, list)

    tokens: dict[str, list[str]] = {}
    for doc in docs:
        text = re.sub(r"<[^>]+>", " ", doc["title"] + " " + doc["text"])
        tokens.setdefault(doc["location"].split("#")[0], []).extend(
            token.lower() for token in separator.split(text) if token
        )
    return tokens


def plain_text(search_index: dict[str, object]) -> dict[str, str]:
    docs = search_index["docs"]
    assert isinstance(docs, list)
    text: dict[str, str] = {}
    for doc in docs:
        location = doc["location"].split("#")[0]
        plain = re.sub(r"<[^>]+>", " ", doc["title"] + " " + doc["text"]).replace("\u200b", "")
        text[location] = text.get(location, "") + " " + plain
    return text


def test_search_separator_splits_u200b(search_index: dict[str, object]) -> None:
    config = search_index["config"]
    assert isinstance(config, dict)

    assert re.compile(config["separator"]).split("梯度\u200b消失") == ["梯度", "消失"]
    assert config["lang"] == ["zh"]


# Terms of the glossary's term list (docs/assets/terms.yml), which hooks/search.py adds to
# jieba's dictionary, and words of the search plugin's jieba_dict_user only.
@pytest.mark.parametrize("term", ["梯度消失", "激活函数", "自归一化", "相对误差", "查找表"])
def test_search_keeps_domain_terms_whole(search_index: dict[str, object], term: str) -> None:
    tokens = tokens_by_location(search_index)
    texts = plain_text(search_index)

    assert any(term in page_tokens for page_tokens in tokens.values()), f"no token {term}"
    for location, text in texts.items():
        # Every occurrence in the text must be one whole token, never split in two.
        assert tokens[location].count(term) >= text.count(term), location


@pytest.mark.parametrize("term", ["ReLU", "ONNX", "float16", "Sigmoid", "tanh"])
def test_search_finds_english_terms(search_index: dict[str, object], term: str) -> None:
    tokens = tokens_by_location(search_index)
    texts = plain_text(search_index)
    pages_with_term = [location for location, text in texts.items() if mentions(text, term)]

    assert pages_with_term, f"no page mentions {term}"
    for location in pages_with_term:
        assert term.lower() in tokens[location], location


# --- figures ---

LIGHT_BACKGROUND = (255, 255, 255)
# Material's slate background, hsla(225, 15%, 14%) with its default hue.
DARK_BACKGROUND = (30, 33, 41)
FIGURE = re.compile(r'<svg class="notes-figure".*?</svg>', re.DOTALL)
STYLE = re.compile(r'style="([^"]*)"')


def stroke_colours(svg: str) -> list[tuple[tuple[float, float, float], float]]:
    """Return each explicit stroke colour in ``svg`` with its opacity."""
    strokes = []
    for style in STYLE.findall(svg):
        properties = dict(
            (name.strip(), value.strip())
            for name, _, value in (item.partition(":") for item in style.split(";"))
        )
        colour = properties.get("stroke", "")
        if re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            rgb = tuple(float(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
            opacity = float(properties.get("stroke-opacity", 1)) * float(
                properties.get("opacity", 1)
            )
            strokes.append((rgb, opacity))
    return strokes


def on_background(
    rgb: tuple[float, float, float], opacity: float, background: tuple[float, float, float]
) -> tuple[float, float, float]:
    red, green, blue = (opacity * rgb[i] + (1 - opacity) * background[i] for i in range(3))
    return red, green, blue


def test_contrast_reference_values() -> None:
    # WCAG 2's extremes: black on white is 21:1, any colour on itself 1:1.
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((119, 119, 119), (119, 119, 119)) == pytest.approx(1.0)


def test_figure_lines_contrast_in_both_palettes(pages: dict[str, str]) -> None:
    figures = [
        (html_path, number, svg)
        for html_path, html in pages.items()
        for number, svg in enumerate(FIGURE.findall(html), start=1)
    ]
    assert figures, "the site has no figure"

    low_contrast = set()
    for html_path, number, svg in figures:
        strokes = stroke_colours(svg)
        assert strokes, f"{html_path}: figure {number} has no coloured line"
        for rgb, opacity in strokes:
            for background in (LIGHT_BACKGROUND, DARK_BACKGROUND):
                ratio = contrast(on_background(rgb, opacity, background), background)
                # WCAG 2 requires a contrast of 3:1 for graphical objects.
                if ratio < 3.0:
                    low_contrast.add(
                        f"{html_path}: figure {number}, stroke {rgb} at opacity {opacity} "
                        f"on {background}: {ratio:.2f}"
                    )

    assert sorted(low_contrast) == []


# --- footer and reproducibility ---


def test_every_page_states_versions(pages: dict[str, str]) -> None:
    for html_path, html in pages.items():
        footer = re.search(r'<span class="actnotes-provenance">(.*?)</span>', html)

        assert footer is not None, html_path
        assert f"NumPy {numpy.__version__}" in footer.group(1), html_path
        assert f"Matplotlib {matplotlib.__version__}" in footer.group(1), html_path
        assert "actlib " in footer.group(1), html_path


@pytest.mark.parametrize(
    "path", ["overrides/404.html", "assets/terms.yml", "assets/jieba_user_dict.txt"]
)
def test_build_inputs_not_published(site: Path, path: str) -> None:
    # Files in docs/ that the build reads but that mkdocs.yml's exclude_docs keeps off the site.
    assert (REPO / "docs" / path).is_file()
    assert not (site / path).exists()


def test_chinese_404_page(pages: dict[str, str]) -> None:
    html = pages["404.html"]

    assert "页面不存在" in html
    assert '<html lang="zh"' in html


def file_digests(site: Path) -> dict[str, str]:
    return {
        path.relative_to(site).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(site.rglob("*"))
        if path.is_file()
    }


def test_two_builds_byte_identical(built: BuiltSite, tmp_path: Path) -> None:
    # Two builds back to back rather than one against the session's build, so that a commit
    # made meanwhile in this checkout (which changes the footer) cannot come between them.
    # Without SOURCE_DATE_EPOCH, as a plain `mkdocs build`: the provenance hook sets it.
    first, second = (
        build_or_fail(
            REPO / "mkdocs.yml",
            tmp_path / name,
            "--strict",
            source_date_epoch=False,
            site_url=built.url,
        )
        for name in ("first", "second")
    )

    first_digests = file_digests(first)
    second_digests = file_digests(second)
    assert sorted(first_digests) == sorted(second_digests)
    differing = [name for name in first_digests if first_digests[name] != second_digests[name]]
    assert differing == []

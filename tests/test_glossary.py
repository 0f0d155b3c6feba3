"""The glossary page, its term list, and how the built search index treats the terms.

docs/assets/terms.yml lists the terms; docs/glossary.md defines each under the anchor the toc
extension's slugify gives it; hooks/search.py adds the terms to jieba's dictionary and
indexes the parts of long words. The search checks emulate Material's query semantics on the
built search_index.json: a query word matches an indexed word that starts with it, in any
indexed field. One browser test confirms that emulation in Chromium.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import jieba
import pytest
from mkdocs.exceptions import PluginError
from playwright.sync_api import sync_playwright
from pymdownx.slugs import slugify  # type: ignore[import-untyped]
from sitetools import REPO, BuiltSite, free_port, load_hook, real_site
from termtools import GLOSSARY, VARIANTS_LABEL, Term, load_terms

TERMS = load_terms()
SLUGIFY = slugify(case="lower")
# A definition list term: "梯度消失（vanishing gradient） {#梯度消失}".
ENTRY = re.compile(r"^(?P<term>\S[^（\n]*)（(?P<en>[^）\n]+)） \{#(?P<id>[^}]+)\}$", re.MULTILINE)
NOTE_LINK = re.compile(r"\]\(\.\./notebooks/(?P<name>[\w-]+)\.md\)")
HAN = re.compile(r"[\u3400-\u9fff]+")


def anchor(term: str) -> str:
    slug: str = SLUGIFY(term, "-")
    return slug


def glossary_entries() -> dict[str, tuple[str, str, str]]:
    """Return {term: (English, anchor, body)} for each entry of docs/glossary.md."""
    text = GLOSSARY.read_text(encoding="utf-8")
    matches = list(ENTRY.finditer(text))
    entries = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = text[match.end() : end].split("\n## ", 1)[0]
        entries[match["term"]] = (match["en"], match["id"], body)
    return entries


# --- the term list ---


def test_terms_unique() -> None:
    names = [term.term for term in TERMS]

    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("term", TERMS, ids=lambda term: term.term)
def test_term_contains_no_variant(term: Term) -> None:
    # A variant inside a term would ban the term itself wherever it is used.
    for other in TERMS:
        for variant in other.variants:
            assert variant.lower() not in term.term.lower(), (variant, other.term)


# --- the glossary page ---


@pytest.mark.parametrize("term", TERMS, ids=lambda term: term.term)
def test_glossary_defines_term(term: Term) -> None:
    entries = glossary_entries()

    assert term.term in entries, f"docs/glossary.md has no entry `{term.term}（{term.en}）`"
    english, entry_id, body = entries[term.term]
    assert english == term.en, term.term
    assert entry_id == anchor(term.term), term.term
    definition = body.split(VARIANTS_LABEL)[0]
    assert len(definition.strip()) > 20, f"{term.term}: definition missing"


@pytest.mark.parametrize("term", TERMS, ids=lambda term: term.term)
def test_glossary_lists_variants(term: Term) -> None:
    _, _, body = glossary_entries()[term.term]
    labelled = [line for line in body.splitlines() if line.strip().startswith(VARIANTS_LABEL)]

    if not term.variants:
        assert labelled == [], f"{term.term}: variants listed but none in terms.yml"
        return
    assert len(labelled) == 1, f"{term.term}: expected one line `{VARIANTS_LABEL}...`"
    for variant in term.variants:
        assert variant in labelled[0], (term.term, variant)


def test_glossary_entries_all_in_terms() -> None:
    listed = {term.term for term in TERMS}

    assert set(glossary_entries()) <= listed, "add the extra entries to docs/assets/terms.yml"


def test_glossary_has_no_code() -> None:
    text = GLOSSARY.read_text(encoding="utf-8")

    # A docs page is never executed: formulas are math, numbers come from the notes.
    assert "```" not in text
    assert ">>>" not in text


def test_glossary_links_existing_notes() -> None:
    for term, (_, _, body) in glossary_entries().items():
        for link in NOTE_LINK.finditer(body):
            note = REPO / "notebooks" / f"{link['name']}.md"
            assert note.is_file(), f"{term}: link to missing {note.relative_to(REPO)}"


# --- hooks/search.py, without a build ---


def search_config(config_dir: Path) -> SimpleNamespace:
    plugin = SimpleNamespace(config=SimpleNamespace(jieba_dict_user=None))
    return SimpleNamespace(
        config_file_path=str(config_dir / "mkdocs.yml"), plugins={"material/search": plugin}
    )


def write_terms(config_dir: Path, text: str) -> None:
    path = config_dir / "docs" / "assets" / "terms.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")


def test_hook_adds_terms_to_jieba(tmp_path: Path) -> None:
    search = load_hook("search")
    # Made-up words that jieba's own dictionary splits.
    word, variant = "梯度消融", "梯度湮没"
    write_terms(tmp_path, f"terms:\n  - term: {word}\n    en: x\n    variants: [{variant}]\n")
    assert jieba.lcut(word, HMM=False) != [word]

    try:
        search.on_pre_build(search_config(tmp_path))

        assert jieba.lcut(word, HMM=False) == [word]
        assert jieba.lcut(variant, HMM=False) == [variant]
    finally:
        jieba.del_word(word)
        jieba.del_word(variant)


def test_hook_rejects_invalid_terms(tmp_path: Path) -> None:
    search = load_hook("search")
    write_terms(tmp_path, "terms:\n  - en: no term\n")

    with pytest.raises(PluginError, match=r"terms\.yml: invalid term list"):
        search.on_pre_build(search_config(tmp_path))


def test_word_parts_skip_prefixes() -> None:
    search = load_hook("search")

    parts = search.word_parts(["梯度消失", "ReLU", "导数"])

    # 梯度 starts 梯度消失, so a prefix query finds it without an extra word.
    assert parts == ["消失"]


# --- the built site ---


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return real_site(tmp_path_factory)


@pytest.fixture(scope="module")
def search_index(built: BuiltSite) -> dict[str, object]:
    index: dict[str, object] = json.loads(
        (built.path / "search" / "search_index.json").read_text(encoding="utf-8")
    )
    return index


@pytest.fixture(scope="module")
def indexed_words(search_index: dict[str, object]) -> dict[str, dict[str, list[str]]]:
    """Return {page: {field: words}}, split as Material's search worker splits them."""
    config = search_index["config"]
    docs = search_index["docs"]
    assert isinstance(config, dict)
    assert isinstance(docs, list)
    separator = re.compile(config["separator"])

    words: dict[str, dict[str, list[str]]] = {}
    for doc in docs:
        page = words.setdefault(doc["location"].split("#")[0], {})
        for field in config["fields"]:
            value = doc.get(field, "")
            text = " ".join(value) if isinstance(value, list) else value
            text = re.sub(r"<[^>]+>", " ", text)
            page.setdefault(field, []).extend(w.lower() for w in separator.split(text) if w)
    return words


def pages_found(indexed_words: dict[str, dict[str, list[str]]], query: str) -> set[str]:
    """Return the pages a one-word query finds: an indexed word starts with the query."""
    query = query.lower()
    return {
        page
        for page, fields in indexed_words.items()
        if any(word.startswith(query) for words in fields.values() for word in words)
    }


@pytest.mark.slow
@pytest.mark.parametrize("term", TERMS, ids=lambda term: term.term)
def test_term_indexed_whole(term: Term, indexed_words: dict[str, dict[str, list[str]]]) -> None:
    glossary = indexed_words["glossary/"]
    words = glossary["title"] + glossary["text"]

    # "死亡 ReLU" is two words in any index; each must be one word of its own.
    for word in term.term.lower().split():
        assert word in words, f"{word!r} of {term.term!r} is not one word in the index"


@pytest.mark.slow
@pytest.mark.parametrize("term", TERMS, ids=lambda term: term.term)
def test_term_finds_glossary(term: Term, indexed_words: dict[str, dict[str, list[str]]]) -> None:
    for word in term.term.split():
        assert "glossary/" in pages_found(indexed_words, word), word


@pytest.mark.slow
def test_term_part_finds_glossary(indexed_words: dict[str, dict[str, list[str]]]) -> None:
    words = indexed_words["glossary/"]["title"] + indexed_words["glossary/"]["text"]

    assert "消失" not in words, "消失 stands alone on the page; the check below proves nothing"
    assert "glossary/" in pages_found(indexed_words, "消失")


@pytest.mark.slow
@pytest.mark.parametrize(
    "term",
    [t for t in TERMS if len(t.term) >= 3 and HAN.fullmatch(t.term)],
    ids=lambda term: term.term,
)
def test_term_parts_find_glossary(
    term: Term, indexed_words: dict[str, dict[str, list[str]]]
) -> None:
    for part in jieba.cut_for_search(term.term):
        if len(part) >= 2:
            assert "glossary/" in pages_found(indexed_words, part), (term.term, part)


@pytest.mark.slow
@pytest.mark.parametrize("term", [t for t in TERMS if t.variants], ids=lambda t: t.term)
def test_variant_finds_glossary(term: Term, indexed_words: dict[str, dict[str, list[str]]]) -> None:
    for variant in term.variants:
        for word in variant.split():
            assert "glossary/" in pages_found(indexed_words, word), (term.term, word)


def article_text(html_path: Path) -> str:
    html = html_path.read_text(encoding="utf-8")
    article = html[html.find("<article") : html.find("</article>")]
    return unescape(re.sub(r"<[^>]+>", " ", article))


@pytest.mark.slow
def test_linked_notes_mention_term(built: BuiltSite) -> None:
    for term, (_, _, body) in glossary_entries().items():
        for link in NOTE_LINK.finditer(body):
            page = built.path / link["name"] / "index.html"
            assert term in article_text(page), f"glossary links {term} to {link['name']}"


# --- in Chromium ---


@pytest.fixture(scope="module")
def served_site(built: BuiltSite) -> Iterator[str]:
    port = urlsplit(built.url).port or free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=built.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server)
        yield built.url
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    """Wait until the HTTP server accepts connections; fail if it exits first."""
    for _ in range(300):
        if server.poll() is not None:
            pytest.fail(f"python -m http.server exited with status {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"python -m http.server did not listen on 127.0.0.1:{port}")


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_finds_glossary_by_part(
    served_site: str, indexed_words: dict[str, dict[str, list[str]]]
) -> None:
    # 弥散 is only a part of the variant 梯度弥散, so only the parts field can find it. The query
    # has a single result page: Material shows the first 10 and the rest on scrolling.
    query = "弥散"
    assert query not in indexed_words["glossary/"]["text"]
    assert pages_found(indexed_words, query) == {"glossary/"}

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            # Without the background-networking flags Chromium contacts Google's services.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(served_site, wait_until="load")
            search_box = page.locator("input[data-md-component='search-query']")
            search_box.fill(query)
            # Material reads the query on keyup, which fill() does not send.
            search_box.press("End")
            page.wait_for_selector("a.md-search-result__link")
            hrefs: list[str] = page.eval_on_selector_all(
                "a.md-search-result__link", "links => links.map(link => link.href)"
            )
        finally:
            browser.close()

    assert "/glossary/" in {urlsplit(href).path for href in hrefs}

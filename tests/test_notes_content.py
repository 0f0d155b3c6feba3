"""The shape every activation note shares, and the terms every page uses.

An activation note is a note in notebooks/ whose front matter lists the category 激活函数. It
must have the sections of SECTIONS in that order, at least two figures, the registry's f and f'
as math on the built page, at least three ```pycon examples and complete front matter, and it
must be in nav. No note or docs page may use a variant that docs/assets/terms.yml bans.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import yaml
from mkdocs.utils.yaml import yaml_load
from sitetools import REPO, BuiltSite, real_site
from termtools import find_variants, load_terms

import actlib

NOTES_DIR = REPO / "notebooks"
DOCS_DIR = REPO / "docs"
ACTIVATION_CATEGORY = "激活函数"
SECTIONS = ("定义", "图像", "性质", "优点", "不足", "数值实现", "ONNX", "示例", "参考文献")
FRONT_MATTER_KEYS = ("title", "date", "categories")
MIN_FIGURES = 2
MIN_EXAMPLES = 3
EXAMPLE_IMPORTS = [">>> import numpy as np", ">>> import actlib"]

FENCE = re.compile(r"^(?P<marker>`{3,}|~{3,})(?P<info>.*)$")
MATH = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
FIGURE = '<div class="notes-output notes-figure">'
TAG = re.compile(r"<[^>]+>")


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    end = text.find("\n---\n", 4)
    data = yaml.safe_load(text[4:end]) if end >= 0 else None
    return data if isinstance(data, dict) else {}


def all_notes() -> list[Path]:
    return sorted(NOTES_DIR.rglob("*.md"))


def activation_notes() -> list[Path]:
    return [
        path
        for path in all_notes()
        if ACTIVATION_CATEGORY in (front_matter(path).get("categories") or [])
    ]


def docs_pages() -> list[Path]:
    return sorted(DOCS_DIR.rglob("*.md"))


def fences(text: str) -> list[tuple[str, list[str]]]:
    """Return (info string, body lines) for each fenced block of `text`."""
    blocks: list[tuple[str, list[str]]] = []
    marker = None
    for line in text.splitlines():
        match = FENCE.match(line)
        if marker is None and match:
            marker = match["marker"]
            blocks.append((match["info"].strip(), []))
        elif marker is not None and line.strip() == marker:
            marker = None
        elif marker is not None:
            blocks[-1][1].append(line)
    return blocks


def prose_lines(text: str) -> list[str]:
    """Return the lines of `text` outside fenced blocks."""
    lines = []
    marker = None
    for line in text.splitlines():
        match = FENCE.match(line)
        if marker is None and match:
            marker = match["marker"]
        elif marker is not None and line.strip() == marker:
            marker = None
        elif marker is None:
            lines.append(line)
    return lines


def registry_name(note: Path) -> str:
    """Return the registry key of a note: notebooks/leaky-relu.md → leaky_relu."""
    return note.stem.replace("-", "_")


def built_page(site: Path, note: Path) -> str:
    relative_url = note.relative_to(NOTES_DIR).with_suffix("").as_posix()
    return (site / relative_url / "index.html").read_text(encoding="utf-8")


def squeeze(latex: str) -> str:
    """Remove all whitespace, which TeX ignores between tokens."""
    return re.sub(r"\s+", "", latex)


def nav_paths(nav: object) -> list[str]:
    """Return every page path in a MkDocs nav structure."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [path for item in nav for path in nav_paths(item)]
    if isinstance(nav, dict):
        return [path for value in nav.values() for path in nav_paths(value)]
    return []


ACTIVATION_NOTES = activation_notes()
NOTE_IDS = [note.stem for note in ACTIVATION_NOTES]


def test_activation_notes_found() -> None:
    assert ACTIVATION_NOTES, f"no note in notebooks/ has the category {ACTIVATION_CATEGORY}"


# --- every note ---


@pytest.mark.parametrize("note", all_notes(), ids=lambda note: note.stem)
def test_note_front_matter_complete(note: Path) -> None:
    meta = front_matter(note)

    # Without categories a note is not recognised as an activation note and escapes the checks.
    for key in FRONT_MATTER_KEYS:
        assert meta.get(key), f"{relative(note)}: front matter has no {key!r}"


# --- activation notes, from the source ---


@pytest.mark.parametrize("note", ACTIVATION_NOTES, ids=NOTE_IDS)
def test_note_has_tags(note: Path) -> None:
    tags = front_matter(note).get("tags")

    assert isinstance(tags, list), f"{relative(note)}: front matter has no list of tags"
    assert tags, f"{relative(note)}: front matter lists no tags"


@pytest.mark.parametrize("note", ACTIVATION_NOTES, ids=NOTE_IDS)
def test_note_sections_in_order(note: Path) -> None:
    text = note.read_text(encoding="utf-8")
    headings = [line[3:].strip() for line in prose_lines(text) if line.startswith("## ")]

    missing = [section for section in SECTIONS if section not in headings]
    extra = [heading for heading in headings if heading not in SECTIONS]
    assert not missing, f"{relative(note)}: missing section(s) {['## ' + s for s in missing]}"
    assert not extra, f"{relative(note)}: unexpected section(s) {['## ' + h for h in extra]}"
    assert headings == list(SECTIONS), (
        f"{relative(note)}: sections out of order\n"
        f"  found:    {headings}\n  expected: {list(SECTIONS)}"
    )


@pytest.mark.parametrize("note", ACTIVATION_NOTES, ids=NOTE_IDS)
def test_note_has_pycon_examples(note: Path) -> None:
    examples = [body for info, body in fences(note.read_text(encoding="utf-8")) if info == "pycon"]

    assert len(examples) >= MIN_EXAMPLES, (
        f"{relative(note)}: {len(examples)} ```pycon example(s), at least {MIN_EXAMPLES} needed"
    )
    for number, body in enumerate(examples, start=1):
        statements = [line for line in body if line.startswith(">>> ")]
        assert statements[:2] == EXAMPLE_IMPORTS, (
            f"{relative(note)}: ```pycon example {number} must start with "
            f"{EXAMPLE_IMPORTS}, as a fresh Python session would"
        )


@pytest.mark.parametrize("note", ACTIVATION_NOTES, ids=NOTE_IDS)
def test_note_in_registry(note: Path) -> None:
    names = sorted(actlib.REGISTRY)

    assert registry_name(note) in actlib.REGISTRY, (
        f"{relative(note)}: no registry entry {registry_name(note)!r}; name the note after "
        f"one of {names} (with - for _)"
    )


@pytest.mark.parametrize("note", ACTIVATION_NOTES, ids=NOTE_IDS)
def test_note_in_nav(note: Path) -> None:
    with (REPO / "mkdocs.yml").open(encoding="utf-8") as file:
        nav = yaml_load(file)["nav"]

    assert relative(note) in nav_paths(nav), f"{relative(note)} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("note", all_notes(), ids=lambda note: note.stem)
def test_note_linked_from_home_page(note: Path) -> None:
    home = (REPO / "docs" / "index.md").read_text(encoding="utf-8")

    assert f"](../{relative(note)})" in home, (
        f"{relative(note)} is not linked from docs/index.md; add it to the list of notes there"
    )


# --- activation notes, on the built page ---


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built: BuiltSite = real_site(tmp_path_factory)
    return built.path


@pytest.mark.slow
@pytest.mark.parametrize("note", ACTIVATION_NOTES, ids=NOTE_IDS)
def test_note_page_has_figures(note: Path, site: Path) -> None:
    count = built_page(site, note).count(FIGURE)

    assert count >= MIN_FIGURES, f"{relative(note)}: {count} figure(s), at least {MIN_FIGURES}"


@pytest.mark.slow
@pytest.mark.parametrize("note", ACTIVATION_NOTES, ids=NOTE_IDS)
def test_note_page_shows_formulas(note: Path, site: Path) -> None:
    act = actlib.get(registry_name(note))
    math = [squeeze(unescape(match[2])) for match in MATH.finditer(built_page(site, note))]

    for label, latex in (("f", act.latex), ("f'", act.latex_derivative)):
        # The definition's display aligns the equation at its first "=".
        forms = {squeeze(latex), squeeze(latex.replace("=", "&=", 1))}
        assert any(form in block for form in forms for block in math), (
            f"{relative(note)}: the built page shows no math with the registry's {label}, "
            f"{latex!r}\nFix: display actlib.get({act.name!r}) under ## 定义."
        )


# --- terms, on every page ---

TERMS = load_terms()


@pytest.mark.parametrize("page", [*all_notes(), *docs_pages()], ids=lambda page: relative(page))
def test_page_uses_no_term_variant(page: Path) -> None:
    found = find_variants(page.read_text(encoding="utf-8"), TERMS)

    assert not found, "\n".join(
        f"{relative(page)}:{line}: {variant} -> use {term}" for line, variant, term in found
    )


@pytest.mark.slow
def test_built_pages_use_no_term_variant(site: Path) -> None:
    # Text that cells and actlib generate reaches only the built page.
    problems: list[str] = []
    for page in sorted(site.rglob("index.html")):
        html = page.read_text(encoding="utf-8")
        article = html[html.find("<article") : html.find("</article>")]
        lines = [unescape(TAG.sub("", line)).strip() for line in article.splitlines()]
        problems.extend(
            f"{page.relative_to(site).as_posix()}: {variant} -> use {term}: {lines[line - 1]}"
            for line, variant, term in find_variants("\n".join(lines), TERMS)
        )

    assert not problems, "\n".join(problems)

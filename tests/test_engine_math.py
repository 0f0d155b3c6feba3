"""Math in note prose: inventory, `$$` normalisation, and the check against arithmatex HTML.

The rendering side is real: Python-Markdown with pymdownx.arithmatex in generic mode, as
configured in mkdocs.yml.
"""

from __future__ import annotations

import markdown
import pytest
from noteexec import ErrorKind, Formula, find_lost_formulas
from noteexec._math import normalise_display_math, scan_formulas


def render(text: str) -> str:
    converter = markdown.Markdown(
        extensions=["pymdownx.arithmatex", "pymdownx.superfences", "admonition", "tables"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    return converter.convert(text)


def scan(text: str, code_lines: set[int] | None = None) -> list[Formula]:
    return scan_formulas(text.splitlines(), code_lines or set())


def normalise(text: str) -> str:
    return "\n".join(normalise_display_math(text.splitlines(), set()))


def test_inline_and_display_with_lines() -> None:
    text = "Intro $x^2$ and $y$.\n\n$$\n\\sigma(x) = \\frac{1}{1 + e^{-x}}\n$$\n"
    assert scan(text) == [
        Formula(1, "x^2", False),
        Formula(1, "y", False),
        Formula(3, "\n\\sigma(x) = \\frac{1}{1 + e^{-x}}\n", True),
    ]


def test_environment_is_display_math() -> None:
    assert scan("\\begin{align}a &= b\\end{align}") == [
        Formula(1, "\\begin{align}a &= b\\end{align}", True)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "costs \\$5 and \\$6",
        "inline code `$x$` only",
        "double code ``a $x$ b`` only",
        "<!-- $x$ in a comment -->",
        "a lone $ sign",
    ],
)
def test_not_math(text: str) -> None:
    assert scan(text) == []


def test_math_does_not_span_blank_line() -> None:
    assert scan("$a\n\nb$") == []


def test_braces_protect_dollar_inside_math() -> None:
    assert scan("$\\text{$x$}$") == [Formula(1, "\\text{$x$}", False)]


def test_code_lines_are_skipped() -> None:
    lines = ["Text $a$", "```python", "x = '$b$'", "```", "after $c$"]
    formulas = scan_formulas(lines, {1, 2, 3})
    assert [(f.line, f.tex) for f in formulas] == [(1, "a"), (5, "c")]


def test_glued_display_math_becomes_its_own_block() -> None:
    text = "Some prose\n$$\nf(x) = 1\n$$\nafter text"
    assert normalise(text) == "Some prose\n\n$$\nf(x) = 1\n$$\n\nafter text"
    assert '<div class="arithmatex">\\[\nf(x) = 1\n\\]</div>' in render(normalise(text))


def test_glued_display_math_is_lost_without_normalisation() -> None:
    text = "Some prose\n$$\nf(x) = 1\n$$\nafter text"
    assert "arithmatex" not in render(text)


def test_display_math_inside_a_line_is_split_out() -> None:
    text = "text $$x^2$$ more"
    assert normalise(text) == "text\n\n$$x^2$$\n\nmore"
    html = render(normalise(text))
    assert find_lost_formulas(scan(text), html, "n.md") == []


def test_display_math_in_list_item_keeps_indentation() -> None:
    # Python-Markdown keeps a paragraph in a list item after a blank line only at 4 spaces.
    text = "- item $$y$$ tail"
    assert normalise(text) == "- item\n\n    $$y$$\n\n    tail"
    assert find_lost_formulas(scan(text), render(normalise(text)), "n.md") == []


def test_display_math_in_blockquote_keeps_markers() -> None:
    text = "> quote\n> $$\n> z\n> $$\n> after"
    assert normalise(text) == "> quote\n>\n> $$\n> z\n> $$\n>\n> after"
    assert find_lost_formulas(scan(text), render(normalise(text)), "n.md") == []


def test_normalise_keeps_line_count() -> None:
    text = "a $$x$$ b\nc\n$$y$$\nd"
    assert len(normalise_display_math(text.splitlines(), set())) == 4


def test_separate_display_math_unchanged() -> None:
    text = "Para\n\n$$\nx\n$$\n\nNext"
    assert normalise(text) == text


def test_check_passes_for_rendered_note() -> None:
    text = (
        "# Sigmoid\n\n$\\sigma(x) = \\frac{1}{1+e^{-x}}$, $a<b$, $a_1$ and $b_1$.\n"
        "$$\n\\sigma'(x) = \\sigma(x)(1-\\sigma(x))\n$$\n"
        "| x | $\\lvert x\\rvert$ |\n|---|---|\n| 1 | $1$ |\n"
    )
    html = render(normalise(text))
    assert find_lost_formulas(scan(text), html, "notebooks/sigmoid.md") == []


def test_check_reports_lost_formula_with_line() -> None:
    # Jupyter typesets "$ x $"; arithmatex does not take math with a space after the "$".
    text = "First $a$.\n\nThen $ x $ here.\n"
    errors = find_lost_formulas(scan(text), render(normalise(text)), "notebooks/n.md")
    assert len(errors) == 1
    error = errors[0]
    assert error.kind == ErrorKind.MATH
    assert error.line == 3
    assert str(error).startswith("notebooks/n.md:3: inline formula does not reach the page")


def test_check_counts_repeated_formulas() -> None:
    formulas = [Formula(1, "x", False), Formula(2, "x", False)]
    html = '<p><span class="arithmatex">\\(x\\)</span></p>'
    errors = find_lost_formulas(formulas, html, "n.md")
    assert [error.line for error in errors] == [2]


def test_check_requires_display_kind() -> None:
    formulas = [Formula(4, "x^2", True)]
    html = '<p>text $<span class="arithmatex">\\(x^2\\)</span>$ more</p>'
    assert [error.line for error in find_lost_formulas(formulas, html, "n.md")] == [4]

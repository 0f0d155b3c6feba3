"""Math in a note's prose, following Jupyter's rules, and the check of the rendered page.

Jupyter's Markdown cells take ``$…$`` as inline math and ``$$…$$`` as display
math, also in the middle of a line or glued to the text around it. ``\\$`` is a
literal dollar sign and ``\\begin{env}…\\end{env}`` a display environment. Math
never spans a blank line and is not looked for in code. pymdownx.arithmatex
(generic mode) only recognises ``$$`` blocks that stand alone, so `normalise_display_math`
moves display math glued to text into a block of its own. `find_lost_formulas`
compares the inventory with arithmatex's output in the page HTML, which wraps
inline math as ``<span class="arithmatex">\\(…\\)</span>`` and display math as
``<div class="arithmatex">\\[…\\]</div>``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from noteexec._errors import ErrorKind, NoteError

_ENV_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BACKTICKS = re.compile(r"`+")
_ARITHMATEX = re.compile(
    r"<(span|div)\b[^>]*\bclass=\"[^\"]*\barithmatex\b[^\"]*\"[^>]*>(.*?)</\1>", re.DOTALL
)
_QUOTE_MARKERS = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_CONTAINER = re.compile(r"([ \t]*(?:>[ \t]?)*)(?:([-*+]|\d{1,9}[.)])([ \t]+))?")
_LIST_INDENT = 4
"""Indentation of a list item's content after a blank line, in Python-Markdown (tab_length)."""


@dataclass(frozen=True)
class Formula:
    """A formula in a note's prose.

    Attributes
    ----------
    line
        1-based line in the ``.md`` file where the formula starts.
    tex
        The TeX between the delimiters (for environments, ``\\begin…\\end`` included).
    display
        True for display math (``$$…$$`` or an environment), False for ``$…$``.
    """

    line: int
    tex: str
    display: bool


@dataclass(frozen=True)
class _Span:
    """A formula's position: offsets into the block text and the formula itself."""

    start: int
    end: int
    formula: Formula


@dataclass
class _Block:
    """Consecutive non-blank prose lines, i.e. a paragraph-like region."""

    first_line: int
    """0-based index of the block's first line in the document."""
    text: str


def scan_formulas(lines: Sequence[str], code_lines: set[int]) -> list[Formula]:
    """Return every formula in the prose of `lines`.

    `lines` are the document's lines (with or without line ends); `code_lines`
    contains the 0-based indices of lines that are not prose (front matter, fences
    and their content), which also end a paragraph.
    """
    return [span.formula for block in _blocks(lines, code_lines) for span in _scan_block(block)]


def normalise_display_math(lines: Sequence[str], code_lines: set[int]) -> list[str]:
    """Return `lines` with every display formula glued to text moved into its own block.

    The result has one string per input line (without line ends); a string
    contains several lines where blank lines were inserted.
    """
    result = [line.rstrip("\r\n") for line in lines]
    for block in _blocks(lines, code_lines):
        spans = [span for span in _scan_block(block) if span.formula.display]
        if not spans:
            continue
        new_text = _separate_spans(block, spans)
        block_lines = new_text.split("\0")
        for offset, text in enumerate(block_lines):
            result[block.first_line + offset] = text
    return result


def find_lost_formulas(formulas: Sequence[Formula], page_html: str, path: str) -> list[NoteError]:
    """Return an error for each formula of the note that is not math in `page_html`.

    A formula counts as found when an arithmatex element of the same kind
    (inline or display) contains the same TeX, compared with runs of whitespace
    collapsed; each element in the page matches at most one formula.
    """
    rendered: dict[tuple[bool, str], int] = {}
    for match in _ARITHMATEX.finditer(page_html):
        display = match.group(1) == "div"
        tex = _strip_math_delimiters(html.unescape(match.group(2)), display)
        key = (display, _collapse(tex))
        rendered[key] = rendered.get(key, 0) + 1

    errors = []
    for formula in formulas:
        key = (formula.display, _collapse(formula.tex))
        if rendered.get(key, 0) > 0:
            rendered[key] -= 1
            continue
        kind = "display" if formula.display else "inline"
        errors.append(
            NoteError(
                path,
                formula.line,
                None,
                ErrorKind.MATH,
                f"{kind} formula does not reach the page as math: {_shorten(formula.tex)}",
                "",
                "check the delimiters: `\\$` for a literal dollar sign, no math inside raw "
                "HTML, and escape `|` as `\\vert` inside tables",
            )
        )
    return errors


def _blocks(lines: Sequence[str], code_lines: set[int]) -> Iterator[_Block]:
    """Yield runs of non-blank prose lines, each joined with "\\0" as line separator.

    "\\0" keeps a block's text aligned with its lines: it never occurs in Markdown,
    so offsets map back to lines by counting separators.
    """
    current: list[str] = []
    first = 0
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        if index in code_lines or not line.strip():
            if current:
                yield _Block(first, "\0".join(current))
                current = []
            continue
        if not current:
            first = index
        current.append(line)
    if current:
        yield _Block(first, "\0".join(current))


def _masked(text: str) -> list[bool]:
    """Return, per character, whether it is inside inline code or an HTML comment."""
    mask = [False] * len(text)
    for match in _HTML_COMMENT.finditer(text):
        mask[match.start() : match.end()] = [True] * (match.end() - match.start())

    position = 0
    while True:
        opening = _BACKTICKS.search(text, position)
        if opening is None:
            break
        run = opening.group()
        closing = re.compile(rf"(?<!`){run}(?!`)").search(text, opening.end())
        if closing is None:
            # An unmatched run of backticks is literal text.
            position = opening.end()
            continue
        mask[opening.start() : closing.end()] = [True] * (closing.end() - opening.start())
        position = closing.end()
    return mask


def _scan_block(block: _Block) -> Iterator[_Span]:
    text = block.text
    mask = _masked(text)
    index = 0
    while index < len(text):
        if mask[index]:
            index += 1
            continue
        char = text[index]
        if char == "\\":
            environment = _ENV_BEGIN.match(text, index)
            if environment is None:
                index += 2
                continue
            closing = f"\\end{{{environment.group(1)}}}"
            end = text.find(closing, environment.end())
            if end < 0:
                index = environment.end()
                continue
            end += len(closing)
            yield _Span(index, end, _formula(block, index, text[index:end], display=True))
            index = end
            continue
        if char == "$":
            delimiter = "$$" if text.startswith("$$", index) else "$"
            body_start = index + len(delimiter)
            close = _find_closing(text, body_start, delimiter)
            if close is None:
                index = body_start
                continue
            end = close + len(delimiter)
            tex = text[body_start:close]
            yield _Span(index, end, _formula(block, index, tex, display=delimiter == "$$"))
            index = end
            continue
        index += 1


def _find_closing(text: str, start: int, delimiter: str) -> int | None:
    """Return the offset of the closing delimiter, skipping escapes and braces."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(delimiter, index):
            return index if index > start or delimiter == "$$" else None
        index += 1
    return None


def _formula(block: _Block, offset: int, tex: str, *, display: bool) -> Formula:
    line = block.first_line + block.text.count("\0", 0, offset) + 1
    # Blockquote markers on continuation lines belong to the container, not the TeX.
    first, *rest = tex.split("\0")
    rest = [_QUOTE_MARKERS.sub("", part, count=1) for part in rest]
    return Formula(line=line, tex="\n".join([first, *rest]), display=display)


def _separate_spans(block: _Block, spans: Sequence[_Span]) -> str:
    """Return the block text with blank lines around display spans that share it with text."""
    text = block.text
    edits: dict[tuple[int, int], str] = {}
    for span in spans:
        line_start = text.rfind("\0", 0, span.start) + 1
        prefix, blank = _continuation(text, line_start)

        lead = text[line_start : span.start]
        container = _CONTAINER.fullmatch(lead)
        if container is not None and container.group(2):
            # The formula opens a list item: it stays where it is.
            if line_start > 0:
                edits[(line_start, line_start)] = blank + "\n"
        elif container is not None:
            # Only indentation or quote markers before it: indent it as its container needs.
            separator = blank + "\n" if line_start > 0 else ""
            edits[(line_start, span.start)] = separator + prefix
        else:
            text_end = line_start + len(lead.rstrip())
            edits[(text_end, span.start)] = "\n" + blank + "\n" + prefix

        end_line_start = text.rfind("\0", 0, span.end) + 1
        end_line_end = _line_end(text, span.end)
        end_prefix, end_blank = _continuation(text, end_line_start)
        tail = text[span.end : end_line_end]
        if not tail.strip():
            if end_line_end < len(text):
                edits[(end_line_end, end_line_end)] = "\n" + end_blank
        else:
            resume = end_line_end - len(tail.lstrip())
            edits[(span.end, resume)] = "\n" + end_blank + "\n" + end_prefix

    for (start, end), replacement in sorted(edits.items(), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _line_end(text: str, position: int) -> int:
    end = text.find("\0", position)
    return len(text) if end < 0 else end


def _continuation(text: str, line_start: int) -> tuple[str, str]:
    """Return the prefix that continues the container of a line, and its blank-line form.

    `line_start` is the offset of the line in the block `text`. A blockquote
    continues with its ``>`` markers. A list item continues four spaces past
    its marker's indentation, because Python-Markdown, unlike CommonMark, keeps
    a paragraph after a blank line in the item only at that indentation. A
    line without a marker continues the nearest item above it in the block (a
    lazy continuation line).
    """
    line = text[line_start : _line_end(text, line_start)]
    match = _CONTAINER.match(line)
    assert match is not None
    quote = match.group(1)
    item = match if match.group(2) else _item_above(text, line_start)
    if item is None:
        return quote, quote.rstrip()
    prefix = item.group(1) + " " * _LIST_INDENT
    return prefix, item.group(1).rstrip()


def _item_above(text: str, line_start: int) -> re.Match[str] | None:
    """Return the container match of the nearest list item line above `line_start` in the block."""
    lines = text[:line_start].split("\0")[:-1]
    for line in reversed(lines):
        match = _CONTAINER.match(line)
        if match is not None and match.group(2):
            return match
    return None


def _strip_math_delimiters(tex: str, display: bool) -> str:
    tex = tex.strip()
    opening, closing = ("\\[", "\\]") if display else ("\\(", "\\)")
    if tex.startswith(opening) and tex.endswith(closing):
        return tex[len(opening) : -len(closing)]
    return tex


def _collapse(tex: str) -> str:
    return " ".join(tex.split())


def _shorten(tex: str, limit: int = 60) -> str:
    flat = _collapse(tex)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

"""Read a note: front matter, fences, code cells and their options, math inventory.

jupytext (format ``md``) decides what is a code cell, exactly as in Jupyter. A
line scan of the fences maps each cell to its line and checks that every fence
names a language. Code cells are ``python`` fences; other fences are shown and
never run. Fences that look like Python but are not ``python`` (bare, ``py``,
``python3``, ``{python}``...) and fences jupytext turns into a cell magic
(``sh``, ``R``...) are errors, because Jupyter and the site would disagree on
whether they run.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jupytext
from jupytext import languages as jupytext_languages

from noteexec._errors import ErrorKind, NoteError, OptionsError
from noteexec._examples import EXAMPLE_LANGUAGE, ExampleBlock, fence_block
from noteexec._frontmatter import FrontMatter, read_front_matter
from noteexec._math import Formula, normalise_display_math, scan_formulas
from noteexec._options import parse_size

CELL_OPTION_KEYS = ("tags", "alt", "raises", "warns", "timeout", "output_limit")
CELL_TAGS = ("hide-input", "hide-output")
# Keys jupytext itself adds to record the text layout (jupytext 1.19, cell_metadata.py).
_JUPYTEXT_LAYOUT_KEYS = (
    "skipline",
    "noskipline",
    "cell_marker",
    "lines_to_next_cell",
    "lines_to_end_of_cell_marker",
)
# Fence languages that jupytext's Markdown reader turns into code cells (a private name
# in jupytext 1.19; languages.py). Without it, no other language counts as code.
_JUPYTEXT_CODE_LANGUAGES: frozenset[str] = frozenset(
    getattr(jupytext_languages, "_JUPYTER_LANGUAGES_LOWER_AND_UPPER", {"python"})
)
# Names Pygments highlights like a language jupytext would run, for the fix message.
_SHOWN_ALIASES = {
    "bash": "console (a session) or ```shell",
    "sh": "console (a session) or ```shell",
    "html": "xml",
    "latex": "tex",
    "markdown": "md",
    "c++": "cpp",
    "javascript": "ecmascript",
    "js": "ecmascript",
}
_PYTHON_LOOKALIKES = {"py", "py3", "python2", "python3", "ipython", "ipython3", "pycell"}
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_EXCEPTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_FIX_PYTHON_FENCE = (
    "write ```python to run the code, or ```pycon / ```text to show it without running it"
)


@dataclass(frozen=True)
class CellOptions:
    """Options of a code cell, from jupytext's metadata on its fence.

    Example: ```` ```python tags=["hide-input"] alt="Sigmoid 曲线" timeout=120 ````.

    Attributes
    ----------
    hide_input
        Tag ``hide-input``: run the cell and show its outputs, not its code.
    hide_output
        Tag ``hide-output``: run the cell and show its code, not its outputs.
    alt
        ``alt=``: alt text of the cell's figures, one string per figure.
    raises
        ``raises=``: exception class names the cell is expected to raise; the
        note goes on with the next cell.
    warns
        ``warns=``: warning categories the cell is expected to emit.
    timeout
        ``timeout=``: seconds the cell may run, overriding the note's timeout.
    output_limit
        ``output_limit=``: bytes of text output the page shows (``"1 MiB"``),
        ``"unlimited"``, or None for the note's limit.
    """

    hide_input: bool = False
    hide_output: bool = False
    alt: tuple[str, ...] = ()
    raises: tuple[str, ...] = ()
    warns: tuple[str, ...] = ()
    timeout: float | None = None
    output_limit: int | Literal["unlimited"] | None = None


@dataclass(frozen=True)
class CodeCell:
    """A ``python`` cell of a note.

    Attributes
    ----------
    number
        1-based number among the note's code cells.
    line
        1-based line of the opening fence in the ``.md`` file; the code starts
        on the next line.
    end_line
        1-based line of the closing fence.
    source
        The code, as jupytext reads it.
    options
        The cell's options.
    """

    number: int
    line: int
    end_line: int
    source: str
    options: CellOptions


@dataclass(frozen=True)
class Note:
    """A parsed note, ready to run and to render.

    Attributes
    ----------
    path
        Path relative to the runner root, with ``/`` separators (used in messages).
    abs_path
        Absolute path of the ``.md`` file.
    front_matter
        Validated front matter, or None when it is invalid.
    body_start
        0-based index of the first line after the front matter.
    lines
        One string per line of the file, with display math glued to text moved
        into blocks of its own (a string holds several lines where blank lines
        were inserted).
    cells
        The code cells, in order.
    formulas
        Every formula in the prose.
    examples
        The ``>>>`` examples of each ```` ```pycon ```` fence.
    errors
        Front matter, fence, cell option and example syntax errors; a note with
        errors is not run.
    """

    path: str
    abs_path: Path
    front_matter: FrontMatter | None
    body_start: int
    lines: tuple[str, ...]
    cells: tuple[CodeCell, ...]
    formulas: tuple[Formula, ...]
    examples: tuple[ExampleBlock, ...]
    errors: tuple[NoteError, ...]


@dataclass(frozen=True)
class _Fence:
    line: int
    """0-based index of the opening line."""
    end: int
    """0-based index of the closing line (the last line when unclosed)."""
    closed: bool
    indented: bool
    marker: str
    language: str
    content: str


def display_path(path: Path, root: Path) -> str:
    """Return `path` relative to `root` with ``/`` separators, or absolute outside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def read_source(path: Path, shown: str) -> str | NoteError:
    """Return the text of a UTF-8 file as Python reads it, or the error when it is not UTF-8.

    A byte order mark is dropped and line ends (CRLF, CR) become ``\\n``, so
    such a file reads exactly like the clean one. `shown` is the path used in
    the error. Raises OSError when the file cannot be read.
    """
    data = path.read_bytes()
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        return NoteError(
            shown,
            line,
            None,
            ErrorKind.ENCODING,
            f"the file is not valid UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} "
            f"(line {line}, byte {column} of the line): {exc.reason}",
            "",
            "save the file as UTF-8 (in VS Code: 'Save with Encoding' → UTF-8; or "
            "`iconv -f GB18030 -t UTF-8` when it was saved as GBK/GB18030), then build again",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_note(path: Path, *, root: Path, text: str | None = None) -> Note:
    """Parse the note at `path` (or `text` given for it) into a `Note`.

    Problems in the note, a file that is not UTF-8 included, are returned in
    `Note.errors`; only reading the file can raise (OSError).
    """
    abs_path = path.resolve()
    shown_path = display_path(abs_path, root)
    if text is None:
        source = read_source(abs_path, shown_path)
        if isinstance(source, NoteError):
            return unreadable_note(abs_path, shown_path, source)
        text = source
    lines = text.splitlines()

    header = read_front_matter([line + "\n" for line in lines], shown_path)
    errors: list[NoteError] = list(header.errors)

    fences, fence_errors = _scan_fences(lines, header.end_line, shown_path)
    errors.extend(fence_errors)
    cells, cell_errors = _match_cells(text, fences, shown_path, header_ok=not header.errors)
    errors.extend(cell_errors)
    examples = []
    for fence in fences:
        if fence.language == EXAMPLE_LANGUAGE and fence.closed:
            found = fence_block(shown_path, fence.line, fence.content)
            if isinstance(found, NoteError):
                errors.append(found)
            elif found is not None:
                examples.append(found)

    code_lines = set(range(header.end_line))
    for fence in fences:
        code_lines.update(range(fence.line, fence.end + 1))
    return Note(
        path=shown_path,
        abs_path=abs_path,
        front_matter=header.front_matter,
        body_start=header.end_line,
        lines=tuple(normalise_display_math(lines, code_lines)),
        cells=tuple(cells),
        formulas=tuple(scan_formulas(lines, code_lines)),
        examples=tuple(examples),
        errors=tuple(sorted(errors, key=lambda error: error.line or 0)),
    )


def unreadable_note(abs_path: Path, shown_path: str, error: NoteError) -> Note:
    """Return the `Note` of a file that could not be read as text: no content, one error."""
    return Note(
        path=shown_path,
        abs_path=abs_path,
        front_matter=None,
        body_start=0,
        lines=(),
        cells=(),
        formulas=(),
        examples=(),
        errors=(error,),
    )


def _scan_fences(
    lines: Sequence[str], start: int, path: str
) -> tuple[list[_Fence], list[NoteError]]:
    """Find the fenced blocks after the front matter and check their languages."""
    fences: list[_Fence] = []
    errors: list[NoteError] = []
    index = start
    while index < len(lines):
        match = _FENCE_OPEN.match(lines[index])
        if match is None or (match["fence"][0] == "`" and "`" in match["info"]):
            index += 1
            continue

        marker = match["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        closed = end < len(lines)
        fence = _Fence(
            line=index,
            end=min(end, len(lines) - 1),
            closed=closed,
            indented=bool(match["indent"]),
            marker=marker,
            language=match["info"].split()[0] if match["info"].strip() else "",
            content="\n".join(lines[index + 1 : end]),
        )
        fences.append(fence)
        errors.extend(_check_fence(fence, path))
        index = end + 1
    return fences, errors


def _check_fence(fence: _Fence, path: str) -> list[NoteError]:
    def error(message: str, fix: str) -> NoteError:
        return NoteError(path, fence.line + 1, None, ErrorKind.FENCE, message, "", fix)

    language = fence.language
    if not fence.closed:
        return [error(f"fence {fence.marker}{language} is never closed", "close it")]
    if not language:
        return [error("fence without a language", "name the language: " + _FIX_PYTHON_FENCE)]
    if language.startswith("{"):
        return [
            error(
                f"fence language {language!r} is not run: braces are Quarto/MyST syntax",
                _FIX_PYTHON_FENCE,
            )
        ]
    if _is_python_lookalike(language):
        return [
            error(
                f"fence language {language!r} looks like Python but is not run", _FIX_PYTHON_FENCE
            )
        ]
    return []


def _match_cells(
    text: str, fences: Sequence[_Fence], path: str, *, header_ok: bool
) -> tuple[list[CodeCell], list[NoteError]]:
    """Pair jupytext's code cells with the fences they come from, in order."""
    try:
        notebook = jupytext.reads(text, fmt="md")
    except Exception as exc:  # any jupytext failure is reported on the note
        if not header_ok:
            return [], []  # the front matter error explains it
        error = NoteError(
            path, None, None, ErrorKind.FENCE, f"jupytext cannot read the note: {exc}", "", ""
        )
        return [], [error]

    jupytext_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    cells: list[CodeCell] = []
    errors: list[NoteError] = []
    position = 0
    for fence in fences:
        candidate = jupytext_cells[position] if position < len(jupytext_cells) else None
        if (
            not _is_jupytext_code(fence)
            or candidate is None
            or not _is_cell_of(candidate.source, fence)
        ):
            if fence.language == "python":
                errors.append(_not_a_cell_error(fence, path))
            continue

        position += 1
        if fence.language == "python":
            number = len(cells) + 1
            options, option_errors = _cell_options(candidate.metadata, path, fence.line + 1, number)
            errors.extend(option_errors)
            cells.append(CodeCell(number, fence.line + 1, fence.end + 1, fence.content, options))
        elif not _is_python_lookalike(fence.language):
            errors.append(_runnable_fence_error(fence, path))

    for cell in jupytext_cells[position:]:
        first = cell.source.split("\n", 1)[0]
        errors.append(
            NoteError(
                path,
                None,
                None,
                ErrorKind.FENCE,
                f"jupytext reads a code cell that matches no fence: {first!r}",
                "",
                "write every code cell as a ```python fence",
            )
        )
    return cells, errors


def _not_a_cell_error(fence: _Fence, path: str) -> NoteError:
    return NoteError(
        path,
        fence.line + 1,
        None,
        ErrorKind.FENCE,
        "this ```python fence is not a code cell for jupytext "
        "(indented, ~~~ fence, or inside a raw/region block)",
        "",
        "start the fence with ``` at the beginning of the line, outside "
        "<!-- #raw --> blocks, or use ```pycon to show code without running it",
    )


def _is_python_lookalike(language: str) -> bool:
    lowered = language.lower()
    return lowered in _PYTHON_LOOKALIKES or (lowered == "python" and language != "python")


def _is_jupytext_code(fence: _Fence) -> bool:
    """Return whether jupytext's Markdown reader starts a code cell at `fence`."""
    return (
        not fence.indented
        and fence.marker.startswith("`")
        and fence.language in _JUPYTEXT_CODE_LANGUAGES
    )


def _is_cell_of(source: str, fence: _Fence) -> bool:
    """Return whether jupytext made the code cell with `source` from `fence`.

    The fence's own language becomes plain code; other languages become a
    ``%%language`` cell magic.
    """
    return source == fence.content or _is_magic_of(source, fence)


def _runnable_fence_error(fence: _Fence, path: str) -> NoteError:
    alias = _SHOWN_ALIASES.get(fence.language.lower())
    instead = f"```{alias}" if alias else "a language name jupytext does not run, e.g. ```text"
    return NoteError(
        path,
        fence.line + 1,
        None,
        ErrorKind.FENCE,
        f"jupytext reads the ```{fence.language} fence as a code cell that Jupyter would "
        "run (as a cell magic), but the site only shows it",
        "",
        f"write {instead} to show it, or run it from Python in a ```python cell",
    )


def _is_magic_of(source: str, fence: _Fence) -> bool:
    """Return whether jupytext turned `fence` into a ``%%language`` cell."""
    head, _, body = source.partition("\n")
    return head == f"%%{fence.language}" and body == fence.content


def _cell_options(
    metadata: Mapping[str, Any], path: str, line: int, number: int
) -> tuple[CellOptions, list[NoteError]]:
    errors: list[str] = []
    unknown = sorted(
        key for key in metadata if key not in CELL_OPTION_KEYS and key not in _JUPYTEXT_LAYOUT_KEYS
    )
    for key in unknown:
        errors.append(f"unknown cell option {key!r}; valid options: {', '.join(CELL_OPTION_KEYS)}")

    tags = metadata.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        errors.append(f"tags must be a list of strings, got {tags!r}")
        tags = []
    for tag in tags:
        if tag not in CELL_TAGS:
            errors.append(f"unknown tag {tag!r}; valid tags: {', '.join(CELL_TAGS)}")

    alt = _strings(metadata, "alt", errors)
    if any(not text.strip() for text in alt):
        errors.append("alt text must not be empty")
    raises = _strings(metadata, "raises", errors)
    warns = _strings(metadata, "warns", errors)
    for name in (*raises, *warns):
        if not _EXCEPTION_NAME.match(name):
            errors.append(
                f"{name!r} is not a class name such as ValueError or numpy.linalg.LinAlgError"
            )

    timeout = metadata.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        errors.append(f"timeout must be a positive number of seconds, got {timeout!r}")
        timeout = None
    output_limit: int | Literal["unlimited"] | None = None
    if "output_limit" in metadata:
        try:
            size = parse_size(metadata["output_limit"], key="output_limit")
        except OptionsError as exc:
            errors.append(str(exc))
        else:
            output_limit = "unlimited" if size is None else size

    options = CellOptions(
        hide_input="hide-input" in tags,
        hide_output="hide-output" in tags,
        alt=alt,
        raises=raises,
        warns=warns,
        timeout=float(timeout) if timeout is not None else None,
        output_limit=output_limit,
    )
    note_errors = [
        NoteError(
            path,
            line,
            number,
            ErrorKind.CELL_OPTION,
            f"invalid cell option: {message}",
            "",
            'write options on the fence as jupytext metadata, e.g. ```python tags=["hide-input"] '
            'alt="曲线" raises="ValueError" warns="RuntimeWarning" timeout=120 '
            'output_limit="1 MiB"',
        )
        for message in errors
    ]
    return options, note_errors


def _strings(metadata: Mapping[str, Any], key: str, errors: list[str]) -> tuple[str, ...]:
    """Read an option that is a string or a list of strings."""
    value = metadata.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    errors.append(f"{key} must be a string or a list of strings, got {value!r}")
    return ()

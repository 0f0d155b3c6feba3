"""``>>>`` examples: where they are, and the errors their runs produce.

Examples sit in ```` ```pycon ```` fences of a note (shown on the page, never
run as cells) and in the docstrings of Python modules. Each fence and each
docstring is an `ExampleBlock`, which doctest runs in a fresh process as in a
new Python session (see `noteexec._doctest_kernel`). Its failures become
`NoteError`s of kind ``example``, located at the line of the ``>>>`` in the
``.md`` or ``.py`` file.
"""

from __future__ import annotations

import ast
import doctest
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noteexec._errors import ErrorKind, NoteError

EXAMPLE_LANGUAGE = "pycon"
"""Fence language of the examples in notes."""

_FIX_OUTPUT = (
    "if the new output is right, copy it under the >>> line; otherwise fix the code. "
    "Output that varies from run to run may use a directive such as # doctest: +ELLIPSIS"
)
_FIX_NAME = (
    "examples run in a new Python session, not in the note or the module: import what "
    "the example uses, e.g. '>>> import actlib' or '>>> from actlib import sigmoid'"
)
_FIX_EXCEPTION = (
    "fix the code, or, if the example should show the exception, write the expected "
    "output as 'Traceback (most recent call last):' followed by the exception line"
)


@dataclass(frozen=True)
class ExampleBlock:
    """The ``>>>`` examples of one ```` ```pycon ```` fence or one docstring.

    Attributes
    ----------
    path
        Path of the file relative to the runner root, with ``/`` separators.
    line
        1-based line where the block starts: the fence, or the docstring's opening quotes.
    name
        doctest name: ``notebooks/x.md:LINE`` for a fence, the qualified name
        (``actlib._functions.sigmoid``) for a docstring.
    label
        The block in messages: ``the ```pycon fence at line 12`` or
        ``the docstring of actlib._functions.sigmoid``.
    text
        The fence content or the docstring, as doctest parses it.
    lineno
        0-based line of the first line of `text` in the file.
    count
        Number of ``>>>`` examples in `text`.
    """

    path: str
    line: int
    name: str
    label: str
    text: str
    lineno: int
    count: int


@dataclass(frozen=True)
class ExampleResult:
    """The outcome of the examples of one file.

    Attributes
    ----------
    path
        Path of the file relative to the runner root.
    errors
        Every failure; empty when all examples passed.
    examples
        Number of examples that ran.
    """

    path: str
    errors: tuple[NoteError, ...]
    examples: int

    @property
    def ok(self) -> bool:
        """Return whether every example passed."""
        return not self.errors

    def to_json(self) -> str:
        """Serialise the result; `from_json` reverses it."""
        data = {
            "path": self.path,
            "errors": [error.to_dict() for error in self.errors],
            "examples": self.examples,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExampleResult:
        """Rebuild a result from `to_json` output."""
        data = json.loads(text)
        return cls(
            path=data["path"],
            errors=tuple(NoteError.from_dict(item) for item in data["errors"]),
            examples=int(data["examples"]),
        )


def fence_block(path: str, fence_line: int, content: str) -> ExampleBlock | NoteError | None:
    """Return the examples of a ```` ```pycon ```` fence at 0-based `fence_line`.

    Returns None for a fence without ``>>>`` examples, and a `NoteError` when
    doctest cannot parse it.
    """
    line = fence_line + 1
    label = f"the ```{EXAMPLE_LANGUAGE} fence at line {line}"
    return _block(path, line, f"{path}:{line}", label, content, line)


def module_blocks(path: str, text: str, *, name: str) -> tuple[list[ExampleBlock], list[NoteError]]:
    """Return the examples in the docstrings of the source `text` of module `name`.

    Docstrings of the module, its classes and functions, and the members of
    its classes count, as for doctest's `DocTestFinder`; functions nested in
    functions do not.
    """
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        message = f"cannot read the docstrings: {exc.msg}"
        error = NoteError(path, exc.lineno, None, ErrorKind.EXAMPLE, message, "", "fix the syntax")
        return [], [error]

    blocks: list[ExampleBlock] = []
    errors: list[NoteError] = []
    for qualname, literal in _docstrings(tree, name):
        label = f"the docstring of {qualname}"
        lineno = literal.lineno - 1
        found = _block(path, literal.lineno, qualname, label, str(literal.value), lineno)
        if isinstance(found, ExampleBlock):
            blocks.append(found)
        elif found is not None:
            errors.append(found)
    return blocks, errors


def import_base(path: Path) -> Path:
    """Return the folder from which the module at `path` imports by its full name.

    That is the first ancestor without ``__init__.py``, as pytest's
    ``prepend`` import mode finds it: ``actlib/_functions.py`` → the folder of ``actlib/``.
    """
    base = path.resolve().parent
    while (base / "__init__.py").is_file() and base.parent != base:
        base = base.parent
    return base


def module_name(path: Path) -> str:
    """Return the dotted name of the module at `path`, e.g. ``actlib._functions``."""
    absolute = path.resolve()
    parts = list(absolute.relative_to(import_base(absolute)).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def block_errors(
    block: ExampleBlock, record: dict[str, Any] | None, problem: str | None
) -> list[NoteError]:
    """Turn the record of a block's run into errors.

    `record` is None when the process ended before reporting, and `problem`
    then gives the cause (killed, exited with a status, lost).
    """
    if record is None:
        message = f"the process running {block.label} {problem or 'ended without a result'}"
        fix = "look for os._exit(), a crash in C code or a memory limit hit in these examples"
        return [NoteError(block.path, block.line, None, ErrorKind.WORKER_DIED, message, "", fix)]

    errors = [_failure_error(block, failure) for failure in record["failures"]]
    if record["timeout"]:
        line = record["timeout_line"] or block.line
        errors.append(
            NoteError(
                block.path,
                line,
                None,
                ErrorKind.TIMEOUT,
                f"the examples in {block.label} timed out",
                "",
                "make the example faster, or allow more time with extra.notes.timeout in "
                "mkdocs.yml (in a note, also execute.timeout in the front matter)",
            )
        )
    return errors


def _failure_error(block: ExampleBlock, failure: dict[str, Any]) -> NoteError:
    source = _with_prompts(str(failure["source"]))
    detail = f"{source}\n{str(failure['difference']).rstrip()}"
    exception = failure["exception"]
    if exception is None:
        message = f"example output differs from the expected output ({block.label})"
        fix = _FIX_OUTPUT
    else:
        message = f"example raised {exception} ({block.label})"
        fix = _FIX_NAME if exception.startswith("NameError:") else _FIX_EXCEPTION
    return NoteError(block.path, failure["line"], None, ErrorKind.EXAMPLE, message, detail, fix)


def _with_prompts(source: str) -> str:
    first, *rest = source.rstrip("\n").split("\n")
    return "\n".join([f">>> {first}", *(f"... {line}" for line in rest)])


def _block(
    path: str, line: int, name: str, label: str, text: str, lineno: int
) -> ExampleBlock | NoteError | None:
    try:
        examples = doctest.DocTestParser().get_examples(text, name)
    except ValueError as exc:
        # doctest counts lines from the start of the block: "line 3 of the docstring for ...".
        relative = re.match(r"line (\d+) of the docstring for ", str(exc))
        return NoteError(
            path,
            lineno + int(relative.group(1)) if relative else line,
            None,
            ErrorKind.EXAMPLE,
            f"doctest cannot parse the examples in {label}: {exc}",
            "",
            "write each example as '>>> code' (a space after the prompt), continuation lines "
            "as '... code', and the expected output below it, all with the same indentation",
        )
    if not examples:
        return None
    return ExampleBlock(path, line, name, label, text, lineno, len(examples))


_Documented = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _docstrings(node: _Documented, name: str) -> Iterator[tuple[str, ast.Constant]]:
    """Yield the docstring literals under `node` in source order, with qualified names."""
    first = node.body[0] if node.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        yield name, first.value
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return
    for child in node.body:
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _docstrings(child, f"{name}.{child.name}")

"""Run the ``>>>`` examples of the real notes and of actlib's modules under pytest.

One test per note (its ```pycon fences) and per actlib module (its docstrings), through the
same engine and the same rules as the build: each fence or docstring in a fresh process, exact
output. The cache is not used, so every example runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from noteexec import ExecutionOptions, NoteRunner

REPO = Path(__file__).resolve().parent.parent
NOTES = sorted((REPO / "notebooks").rglob("*.md"))
MODULES = sorted((REPO / "actlib").glob("*.py"))
_PYCON_FENCE = re.compile(
    r"^[ \t]*```pycon[^\n]*\n(.*?)^[ \t]*```[ \t]*$", re.MULTILINE | re.DOTALL
)


@pytest.fixture(scope="module")
def runner() -> Iterator[NoteRunner]:
    with NoteRunner(root=REPO, options=ExecutionOptions(cache=False)) as started:
        yield started


def prompt_count(text: str) -> int:
    """Count the lines that start an example (``>>>``), independently of doctest's parser."""
    return sum(1 for line in text.splitlines() if re.match(r"^\s*>>>( |$)", line))


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_examples_found() -> None:
    assert NOTES
    assert "actlib/_functions.py" in [relative(path) for path in MODULES]


@pytest.mark.parametrize("path", NOTES, ids=relative)
def test_note_examples(runner: NoteRunner, path: Path) -> None:
    result = runner.run_examples([path])[path]
    assert result.errors == (), "\n\n".join(str(error) for error in result.errors)
    fences = _PYCON_FENCE.findall(path.read_text(encoding="utf-8"))
    assert result.examples == sum(prompt_count(fence) for fence in fences)


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_module_examples(runner: NoteRunner, path: Path) -> None:
    result = runner.run_examples([path])[path]
    assert result.errors == (), "\n\n".join(str(error) for error in result.errors)
    assert result.examples == prompt_count(path.read_text(encoding="utf-8"))

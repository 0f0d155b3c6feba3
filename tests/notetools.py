"""Helpers shared by the engine tests: write a small note and run it."""

from __future__ import annotations

from pathlib import Path

from noteexec import NoteResult, NoteRunner

HEADER = "---\ntitle: 测试\n---\n\n"
HEADER_LINES = 4


def write(root: Path, name: str, body: str, header: str = HEADER) -> Path:
    """Write ``notebooks/<name>.md`` under `root` with front matter `header`."""
    path = root / "notebooks" / f"{name}.md"
    path.write_text(header + body, encoding="utf-8")
    return path


def run(runner: NoteRunner, root: Path, name: str, body: str, header: str = HEADER) -> NoteResult:
    """Write a note and run it."""
    return runner.run_note(write(root, name, body, header))


def cell(code: str, options: str = "") -> str:
    """Return a python fence with `code` and the cell options `options`."""
    return f"```python{' ' + options if options else ''}\n{code}\n```\n\n"


def errors_text(result: NoteResult) -> str:
    """Join a result's errors as the build would log them."""
    return "\n\n".join(str(error) for error in result.errors)

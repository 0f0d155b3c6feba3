"""Reading notes: front matter schema, fences, cell options, line mapping, jupytext round trip."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import jupytext
import pytest
from jupytext.config import load_jupytext_config
from noteexec import ErrorKind, Note, parse_note

REPO = Path(__file__).resolve().parent.parent


def parse(tmp_path: Path, text: str, name: str = "note.md") -> Note:
    path = tmp_path / "notebooks" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return parse_note(path, root=tmp_path)


def kinds(note: Note) -> list[tuple[ErrorKind, int | None]]:
    return [(error.kind, error.line) for error in note.errors]


HEADER = "---\ntitle: 测试\n---\n"


# Front matter


def test_front_matter_valid_keys(tmp_path: Path) -> None:
    note = parse(
        tmp_path,
        "---\ntitle: Sigmoid 函数\ndate: 2024-05-01\ncategories: [激活函数]\ntags:\n  - ONNX\n"
        "description: 概览\nexecute:\n  timeout: 120\n  memory_limit: 8 GiB\n---\n\ntext\n",
    )
    assert note.errors == ()
    front = note.front_matter
    assert front is not None
    assert front.title == "Sigmoid 函数"
    assert front.date == datetime.date(2024, 5, 1)
    assert front.categories == ("激活函数",)
    assert front.tags == ("ONNX",)
    assert front.description == "概览"
    assert front.execute.timeout == 120.0
    assert front.execute.memory_limit == 8 * 1024**3


def test_front_matter_hexo_and_jupyter_keys_ignored(tmp_path: Path) -> None:
    note = parse(
        tmp_path,
        "---\ntitle: T\nupdated: 2024-05-02\ncomments: true\npermalink: /p/\nmathjax: true\n"
        "layout: post\nexcerpt: x\ncategories: 笔记\n"
        "jupyter:\n  kernelspec:\n    name: python3\n    display_name: Python 3\n---\n",
    )
    assert note.errors == ()
    assert note.front_matter is not None
    assert note.front_matter.categories == ("笔记",)


def test_front_matter_unknown_key_named_with_line(tmp_path: Path) -> None:
    note = parse(tmp_path, "---\ntitle: T\nauthour: me\n---\n")
    assert kinds(note) == [(ErrorKind.FRONT_MATTER, 3)]
    error = note.errors[0]
    assert "'authour'" in error.message
    assert "title" in error.fix
    assert "permalink" in error.fix
    assert str(error).startswith("notebooks/note.md:3: unknown front matter key 'authour'")


def test_front_matter_missing(tmp_path: Path) -> None:
    note = parse(tmp_path, "# No header\n")
    assert kinds(note) == [(ErrorKind.FRONT_MATTER, 1)]
    assert note.front_matter is None


def test_front_matter_missing_title(tmp_path: Path) -> None:
    note = parse(tmp_path, "---\ntags: [a]\n---\n")
    assert kinds(note) == [(ErrorKind.FRONT_MATTER, 1)]
    assert "title" in note.errors[0].message


@pytest.mark.parametrize(
    ("entry", "line", "fragment"),
    [
        ("date: soon", 3, "'date'"),
        ("tags: 3", 3, "'tags'"),
        ("categories: [[a, b]]", 3, "'categories'"),
        ("execute:\n  timeout: -1", 3, "execute.timeout"),
        ("execute:\n  memory_limit: 4096", 3, "execute.memory_limit"),
        ("execute:\n  retries: 2", 3, "'retries'"),
    ],
)
def test_front_matter_invalid_value(tmp_path: Path, entry: str, line: int, fragment: str) -> None:
    note = parse(tmp_path, f"---\ntitle: T\n{entry}\n---\n")
    assert kinds(note) == [(ErrorKind.FRONT_MATTER, line)]
    assert fragment in note.errors[0].message


def test_front_matter_yaml_syntax_error_line(tmp_path: Path) -> None:
    note = parse(tmp_path, "---\ntitle: T\ntags: [a\n---\n")
    assert [error.kind for error in note.errors] == [ErrorKind.FRONT_MATTER]
    assert note.errors[0].line is not None
    assert note.errors[0].line >= 3


# Fences


@pytest.mark.parametrize(
    ("fence", "fragment"),
    [
        ("```", "without a language"),
        ("```py", "'py'"),
        ("```python3", "'python3'"),
        ("```{python}", "'{python}'"),
        ("```ipython3", "'ipython3'"),
        ("```Python", "'Python'"),
    ],
)
def test_bad_fence_reported_with_line(tmp_path: Path, fence: str, fragment: str) -> None:
    note = parse(tmp_path, f"{HEADER}\nText\n\n{fence}\nx = 1\n```\n")
    assert kinds(note) == [(ErrorKind.FENCE, 7)]
    assert fragment in note.errors[0].message
    assert "```python" in note.errors[0].fix


@pytest.mark.parametrize(
    ("language", "suggestion"),
    [("sh", "```console"), ("bash", "```console"), ("html", "```xml"), ("markdown", "```md")],
)
def test_fence_jupytext_would_run_is_error(tmp_path: Path, language: str, suggestion: str) -> None:
    note = parse(tmp_path, f"{HEADER}\n```python\nx = 1\n```\n\n```{language}\nls\n```\n")
    assert kinds(note) == [(ErrorKind.FENCE, 9)]
    assert f"```{language}" in note.errors[0].message
    assert suggestion in note.errors[0].fix
    assert [cell.number for cell in note.cells] == [1]


def test_shown_fences_are_not_cells(tmp_path: Path) -> None:
    note = parse(
        tmp_path,
        f"{HEADER}\n```text\nplain\n```\n\n```pycon\n>>> 1 + 1\n2\n```\n\n"
        "````md\n```python\nnot a cell\n```\n````\n\n```console\n$ make\n```\n"
        "\n```cpp\nint main() {}\n```\n",
    )
    assert note.errors == ()
    assert note.cells == ()


@pytest.mark.parametrize(
    "block",
    [
        "~~~python\nx = 1\n~~~",
        "- item\n\n  ```python\n  x = 1\n  ```",
        "<!-- #raw -->\n```python\nx = 1\n```\n<!-- #endraw -->",
    ],
)
def test_python_fence_outside_jupytext_cell(tmp_path: Path, block: str) -> None:
    note = parse(tmp_path, f"{HEADER}\n{block}\n")
    assert [error.kind for error in note.errors] == [ErrorKind.FENCE]
    assert "not a code cell for jupytext" in note.errors[0].message


def test_unclosed_fence_is_error(tmp_path: Path) -> None:
    note = parse(tmp_path, f"{HEADER}\n```text\nnever closed\n")
    assert kinds(note) == [(ErrorKind.FENCE, 5)]


def test_cells_mapped_to_fence_lines(tmp_path: Path) -> None:
    note = parse(
        tmp_path,
        f"{HEADER}\n# Title\n\n```python\na = 1\n```\n\nText\n```python\n\n\nb = 2\n```\n"
        '\n````python\ns = """```"""\n````\n',
    )
    assert note.errors == ()
    assert [(cell.number, cell.line, cell.end_line) for cell in note.cells] == [
        (1, 7, 9),
        (2, 12, 16),
        (3, 18, 20),
    ]
    assert note.cells[1].source == "\n\nb = 2"
    assert note.cells[2].source == 's = """```"""'


# Cell options


def test_cell_options_read_from_fence(tmp_path: Path) -> None:
    note = parse(
        tmp_path,
        f'{HEADER}\n```python tags=["hide-input", "hide-output"] alt=["图一", "图二"] '
        'raises="ValueError" warns=["RuntimeWarning", "numpy.exceptions.ComplexWarning"] '
        "timeout=120\nx = 1\n```\n",
    )
    assert note.errors == ()
    options = note.cells[0].options
    assert options.hide_input
    assert options.hide_output
    assert options.alt == ("图一", "图二")
    assert options.raises == ("ValueError",)
    assert options.warns == ("RuntimeWarning", "numpy.exceptions.ComplexWarning")
    assert options.timeout == 120.0


def test_cell_options_default(tmp_path: Path) -> None:
    note = parse(tmp_path, f"{HEADER}\n```python\nx = 1\n```\n")
    options = note.cells[0].options
    assert not options.hide_input
    assert options.alt == ()
    assert options.timeout is None


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ('tags=["hide-code"]', "'hide-code'"),
        ("colour=1", "'colour'"),
        ("timeout=0", "timeout"),
        ("alt=3", "alt"),
        ('raises="not a name"', "'not a name'"),
    ],
)
def test_invalid_cell_option_reported(tmp_path: Path, metadata: str, fragment: str) -> None:
    note = parse(tmp_path, f"{HEADER}\n```python {metadata}\nx = 1\n```\n")
    assert kinds(note) == [(ErrorKind.CELL_OPTION, 5)]
    assert note.errors[0].cell == 1
    assert fragment in note.errors[0].message


def test_jupytext_layout_metadata_is_not_an_option(tmp_path: Path) -> None:
    # jupytext records "no blank line after the fence" as lines_to_next_cell.
    note = parse(tmp_path, f"{HEADER}\n```python\nx = 1\n```\nText right after\n")
    assert note.errors == ()


def test_errors_sorted_by_line(tmp_path: Path) -> None:
    note = parse(tmp_path, "---\ntitle: T\nbad: 1\n---\n\n```\nx\n```\n\n```py\ny\n```\n")
    lines = [error.line or 0 for error in note.errors]
    assert lines == sorted(lines)
    assert len(lines) == 3


# jupytext round trip with the repository's configuration


def test_round_trip_keeps_front_matter_and_new_options(tmp_path: Path) -> None:
    shutil.copy(REPO / "jupytext.toml", tmp_path / "jupytext.toml")
    original = (
        "---\ntitle: Sigmoid 函数\ndate: 2024-05-01\ntags: [ONNX]\ncomments: true\n"
        "execute:\n  timeout: 30\n---\n\n# Sigmoid\n\n"
        '```python tags=["hide-input"]\nx = 1\n```\n\n```python\ny = 2\n```\n'
    )
    path = tmp_path / "note.md"
    path.write_text(original, encoding="utf-8")

    config = load_jupytext_config(str(path))
    notebook = jupytext.read(path, config=config)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    code[1].metadata["warns"] = "RuntimeWarning"
    code[1].metadata["alt"] = "曲线"
    code[1].metadata["ExecuteTime"] = {"end_time": "2024-05-01T00:00:00"}
    saved = jupytext.writes(notebook, fmt="md", config=config)
    path.write_text(saved, encoding="utf-8")

    for line in original.split("---\n")[1].splitlines():
        assert f"\n{line}\n" in saved.split("\n---\n")[0]
    assert "ExecuteTime" not in saved
    note = parse_note(path, root=tmp_path)
    assert note.errors == ()
    assert note.front_matter is not None
    assert note.front_matter.execute.timeout == 30.0
    assert note.cells[0].options.hide_input
    assert note.cells[1].options.warns == ("RuntimeWarning",)
    assert note.cells[1].options.alt == ("曲线",)


def test_repository_notes_are_valid_jupytext_notebooks() -> None:
    paths = sorted((REPO / "notebooks").rglob("*.md"))
    assert paths, "notebooks/ holds no notes"
    for path in paths:
        note = parse_note(path, root=REPO)
        assert note.errors == (), "\n\n".join(str(error) for error in note.errors)

"""Bad notes and bad input in the engine: output limits, blocked writes, encodings, hints.

tests/test_failures_builds.py runs the end-to-end matrix: real ``mkdocs build`` and
``mkdocs serve`` runs of the fixture site tests/data/failures/. This module pins each engine
part that the matrix relies on, so that a regression fails a test of its own.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import markdown
import pytest
from noteexec import (
    ErrorKind,
    ExecutionOptions,
    NoteResult,
    NoteRunner,
    OptionsError,
    find_lost_formulas,
    parse_note,
)
from noteexec._guard import RepositoryWriteError, WriteGuard
from noteexec._hints import REQUIREMENTS_STEPS, import_fix
from noteexec._kernel import _Recorder
from noteexec._math import normalise_display_math, scan_formulas
from noteexec._options import format_size
from noteexec._parse import read_source
from notetools import HEADER, HEADER_LINES, cell, errors_text, run

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("failures_engine")
    (path / "notebooks").mkdir()
    return path


@pytest.fixture(scope="module")
def runner(root: Path) -> Iterator[NoteRunner]:
    options = ExecutionOptions(timeout=30, deadline_grace=1.0, output_limit=1024)
    with NoteRunner(root=root, options=options) as started:
        yield started


def assert_ok(result: NoteResult) -> None:
    assert result.errors == (), errors_text(result)


def process_gone(pid: int, within: float = 10.0) -> bool:
    """Wait until no process `pid` exists (reaped, not a zombie)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


# The recorder: text output up to the cell's limit


def test_recorder_cuts_stream_at_limit() -> None:
    recorder = _Recorder(10)
    for text in ("a" * 8, "b" * 8, "c" * 5):
        recorder.stream("stdout", text)
    outputs = recorder.finish()

    assert outputs[0] == {"output_type": "stream", "name": "stdout", "text": "a" * 8 + "bb"}
    assert outputs[1] == {"output_type": "truncated", "limit": 10, "shown": 10, "dropped": 11}
    assert len(outputs) == 2


def test_recorder_cuts_at_character_boundary() -> None:
    recorder = _Recorder(4)
    recorder.stream("stdout", "激活函数")  # 12 bytes of UTF-8
    outputs = recorder.finish()

    assert outputs[0]["text"] == "激"
    assert outputs[1]["shown"] == 3
    assert outputs[1]["dropped"] == 9


def test_recorder_counts_plain_results_not_html() -> None:
    recorder = _Recorder(5)
    html = {"text/plain": "<Table>", "text/html": "<table>" + "x" * 100 + "</table>"}
    recorder.rich("display_data", html, {})
    recorder.rich("execute_result", {"text/plain": "'0123456789'"}, {})
    outputs = recorder.finish()

    assert outputs[0]["data"] == html
    assert outputs[1]["data"] == {"text/plain": "'0123"}
    assert outputs[2]["output_type"] == "truncated"


def test_recorder_without_limit_keeps_all() -> None:
    recorder = _Recorder(None)
    recorder.stream("stderr", "x" * 100_000)
    outputs = recorder.finish()

    assert outputs == [{"output_type": "stream", "name": "stderr", "text": "x" * 100_000}]


def test_recorder_marker_after_kept_text() -> None:
    recorder = _Recorder(3)
    recorder.stream("stdout", "abcdef")
    recorder.stream("stderr", "never shown")
    recorder.count_dropped(1000)
    outputs = recorder.finish()

    assert [output["output_type"] for output in outputs] == ["stream", "truncated"]
    assert outputs[1]["dropped"] == 3 + len("never shown") + 1000


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (128 * 1024, "128 KiB"), (1536, "1.5 KiB")],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


def test_output_limit_truncates_page(runner: NoteRunner, root: Path) -> None:
    code = "for index in range(10_000):\n    print(index)"
    result = run(runner, root, "long_output", cell(code))

    assert_ok(result)
    assert "<code>0\n1\n2\n" in result.markdown
    assert "9999" not in result.markdown
    assert 'class="notes-output notes-truncated"' in result.markdown
    assert "页面只显示前 1 KiB" in result.markdown
    # 10 + 90 + 900 + 9000 lines of 2, 3, 4 and 5 bytes: 48 890 bytes, 47.7 KiB.
    assert result.notices == (
        f"notebooks/long_output.md:{HEADER_LINES + 1}: cell 1 printed 47.7 KiB of text; the "
        "page shows the first 1 KiB. Print less, or raise the limit with "
        'output_limit="1 MiB" on the fence or execute.output_limit in the front matter.',
    )


def test_output_limit_applies_to_c_output(runner: NoteRunner, root: Path) -> None:
    code = 'import os\nos.write(1, b"z" * 5000)\nos.system("seq 1 20000");'
    result = run(runner, root, "fd_output", cell(code))

    assert_ok(result)
    assert "z" * 1024 in result.markdown
    assert "z" * 1025 not in result.markdown
    # 5000 bytes, then seq's 9, 90, 900, 9000 and 10001 lines of 2 to 6 bytes: 113 894 bytes.
    assert "printed 111.2 KiB of text" in result.notices[0]


def test_output_limit_set_by_cell_and_note(runner: NoteRunner, root: Path) -> None:
    code = 'print("x" * 3000)'
    header = '---\ntitle: 失败\nexecute:\n  output_limit: "2 KiB"\n---\n\n'
    body = cell(code) + cell(code, 'output_limit="unlimited"')
    result = run(runner, root, "limits", body, header)

    assert_ok(result)
    assert "x" * 2048 + "</code>" in result.markdown
    assert "x" * 3000 + "\n</code>" in result.markdown
    assert len(result.notices) == 1


def test_output_limit_option_invalid(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text(HEADER + cell("1", 'output_limit="lots"'), encoding="utf-8")
    note = parse_note(path, root=tmp_path)

    assert [error.kind for error in note.errors] == [ErrorKind.CELL_OPTION]
    assert "output_limit: expected a size such as '512 MiB'" in note.errors[0].message


def test_output_limit_read_from_mapping() -> None:
    options = ExecutionOptions.from_mapping({"output_limit": "1 MiB"}, base_dir=REPO)
    assert options.output_limit == 1024**2
    assert ExecutionOptions.from_mapping({}, base_dir=REPO).output_limit == 128 * 1024
    unlimited = ExecutionOptions.from_mapping({"output_limit": "unlimited"}, base_dir=REPO)
    assert unlimited.output_limit is None
    with pytest.raises(OptionsError, match="output_limit: expected a size"):
        ExecutionOptions.from_mapping({"output_limit": 1024}, base_dir=REPO)


# The write guard, called as the audit hook would call it (installing it here would stay)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for folder in ("notebooks/__pycache__", ".cache/notes", "site"):
        (repo / folder).mkdir(parents=True)
    (repo / "notebooks" / "table.csv").write_text("x\n", encoding="utf-8")
    return repo


def guard_for(repo: Path) -> WriteGuard:
    return WriteGuard(str(repo), [str(repo / ".cache"), str(repo / "site")], note_path=None)


@pytest.mark.parametrize(
    ("event", "args", "blocked"),
    [
        ("open", ("notebooks/table.csv", "a", 0), "notebooks/table.csv"),
        ("open", ("notebooks/new.csv", "w", 0), "notebooks/new.csv"),
        ("open", ("notebooks/table.csv", "r+", 0), "notebooks/table.csv"),
        ("open", ("notebooks/table.csv", None, os.O_WRONLY | os.O_TRUNC), "notebooks/table.csv"),
        ("os.rename", ("notebooks/table.csv", "/tmp/moved.csv", -1, -1), "notebooks/table.csv"),
        ("os.rename", ("/tmp/x.csv", "notebooks/x.csv", -1, -1), "notebooks/x.csv"),
        ("os.remove", ("notebooks/table.csv", -1), "notebooks/table.csv"),
        ("os.mkdir", ("notebooks/output", 0o777, -1), "notebooks/output"),
        ("shutil.rmtree", ("notebooks", None), "notebooks"),
        ("os.chmod", ("notebooks/table.csv", 0o777, -1), "notebooks/table.csv"),
        ("os.symlink", ("/etc/hostname", "notebooks/link", -1), "notebooks/link"),
    ],
)
def test_guard_blocks_repository_change(
    repository: Path,
    monkeypatch: pytest.MonkeyPatch,
    event: str,
    args: tuple[object, ...],
    blocked: str,
) -> None:
    monkeypatch.chdir(repository)
    guard = guard_for(repository)

    with pytest.raises(RepositoryWriteError, match=re.escape(blocked)):
        guard.audit(event, args)
    assert [write["path"] for write in guard.take_blocked()] == [blocked]
    assert guard.take_blocked() == []


@pytest.mark.parametrize(
    ("event", "args"),
    [
        ("open", ("notebooks/table.csv", "r", 0)),
        ("open", ("notebooks/table.csv", "rb", 0)),
        ("open", ("notebooks/table.csv", None, os.O_RDONLY | os.O_CLOEXEC)),
        ("open", (".cache/notes/entry.json", "w", 0)),
        ("open", ("site/index.html", "w", 0)),
        ("open", ("notebooks/__pycache__/helper.cpython-311.pyc.123", None, os.O_CREAT)),
        ("os.rename", ("site/a.html", "site/b.html", -1, -1)),
        ("open", (3, "w", 0)),
        ("os.truncate", (3, 0)),
        ("compile", (b"x = 1", "<note>")),
    ],
)
def test_guard_allows_reads_and_outputs(
    repository: Path, monkeypatch: pytest.MonkeyPatch, event: str, args: tuple[object, ...]
) -> None:
    monkeypatch.chdir(repository)
    guard = guard_for(repository)

    guard.audit(event, args)

    assert guard.take_blocked() == []


def test_guard_allows_writes_outside_root(repository: Path, tmp_path: Path) -> None:
    guard = guard_for(repository)
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    guard.audit("open", (str(outside / "data.csv"), "w", 0))
    guard.audit("os.remove", (str(outside / "data.csv"), -1))

    assert guard.take_blocked() == []


def test_guard_resolves_names_against_dir_fd(
    repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # shutil.rmtree removes the entries of a folder by name relative to the folder's descriptor.
    outside = tmp_path / "scratch"
    outside.mkdir()
    monkeypatch.chdir(repository / "notebooks")
    guard = guard_for(repository)
    descriptor = os.open(outside, os.O_RDONLY)
    try:
        guard.audit("os.remove", ("table.csv", descriptor))
    finally:
        os.close(descriptor)

    assert guard.take_blocked() == []


def test_guard_follows_links_into_root(repository: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(repository / "notebooks" / "table.csv")
    guard = guard_for(repository)

    with pytest.raises(RepositoryWriteError):
        guard.audit("open", (str(link), "w", 0))


def test_blocked_write_reported_at_its_line(runner: NoteRunner, root: Path) -> None:
    code = (
        "import numpy as np\n"
        "from pathlib import Path\n"
        "try:\n"
        '    np.save("weights.npy", np.zeros(3))\n'
        "except PermissionError:\n"
        "    pass\n"
        'print("went on")'
    )
    result = run(runner, root, "writes", cell(code))

    assert [error.kind for error in result.errors] == [ErrorKind.REPOSITORY_WRITE]
    error = result.errors[0]
    assert error.line == HEADER_LINES + 5
    assert error.message == (
        "cell 1 tried to change notebooks/weights.npy in the repository (open for writing); "
        "the change was blocked"
    )
    assert "tempfile.TemporaryDirectory()" in error.fix
    assert not (root / "notebooks" / "weights.npy").exists()
    assert "<code>went on" in result.markdown


def test_uncaught_blocked_write_stops_note(runner: NoteRunner, root: Path) -> None:
    body = cell('open("out.txt", "w")') + cell('print("second cell")')
    result = run(runner, root, "write_stops", body)

    assert [error.kind for error in result.errors] == [ErrorKind.REPOSITORY_WRITE]
    assert "second cell" not in result.markdown.split("```")[-1]
    assert not (root / "notebooks" / "out.txt").exists()


def test_example_write_blocked(runner: NoteRunner, root: Path) -> None:
    session = '>>> open("example.txt", "w").close()'
    result = run(runner, root, "example_write", f"```pycon\n{session}\n```\n")

    assert [error.kind for error in result.errors] == [ErrorKind.EXAMPLE]
    assert "RepositoryWriteError" in result.errors[0].message
    assert not (root / "notebooks" / "example.txt").exists()


def test_temporary_files_allowed(runner: NoteRunner, root: Path) -> None:
    code = (
        "import tempfile, pathlib\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        '    pathlib.Path(folder, "x.txt").write_text("ok")\n'
        '    print(pathlib.Path(folder, "x.txt").read_text())'
    )
    result = run(runner, root, "temporary", cell(code))

    assert_ok(result)
    assert "<code>ok\n" in result.markdown


# Processes a note leaves behind


def test_daemon_killed_when_runner_closes(root: Path) -> None:
    code = (
        "import subprocess\n"
        'daemon = subprocess.Popen(["sleep", "300"], start_new_session=True)\n'
        "print(daemon.pid)"
    )
    with NoteRunner(root=root) as short_lived:
        result = run(short_lived, root, "daemon", cell(code))
        assert_ok(result)
        daemon_pid = int(re.findall(r"<code>(\d+)\n", result.markdown)[0])
        assert Path(f"/proc/{daemon_pid}").exists()

    assert process_gone(daemon_pid)


# Import errors


def test_missing_package_names_install_steps() -> None:
    fix = import_fix(ModuleNotFoundError("No module named 'sklearn'", name="sklearn"), "/repo")

    assert fix is not None
    assert fix.startswith("'sklearn' is neither a module of this repository nor installed")
    assert "the package scikit-learn" in fix
    assert fix.endswith(REQUIREMENTS_STEPS)
    assert "requirements.in" in REQUIREMENTS_STEPS
    assert "make setup" in REQUIREMENTS_STEPS


def test_misspelt_installed_module_suggested() -> None:
    fix = import_fix(ModuleNotFoundError("No module named 'nummpy'", name="nummpy"), "/repo")
    assert fix == "correct the name: did you mean 'numpy'? It is installed."


def test_misspelt_local_module_suggested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "activation_helpers.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "notebooks"))
    error = ModuleNotFoundError("No module named 'activation_helper'", name="activation_helper")

    fix = import_fix(error, str(tmp_path))

    assert fix == (
        "correct the name: did you mean 'activation_helpers'? It is a module of this "
        "repository (notebooks/activation_helpers.py)."
    )


def test_misspelt_submodule_suggested() -> None:
    import numpy  # noqa: F401 - the parent package must be loaded, as in the failing note

    error = ModuleNotFoundError("No module named 'numpy.linalgg'", name="numpy.linalgg")
    assert (
        import_fix(error, "/repo") == "correct the name: numpy has a module 'linalg', not 'linalgg'"
    )


def test_misspelt_name_in_from_import() -> None:
    import actlib  # noqa: F401 - the module must be loaded, as in the failing note

    error = ImportError("cannot import name 'sigmod' from 'actlib'", name="actlib")
    assert (
        import_fix(error, "/repo") == "correct the name: did you mean `from actlib import sigmoid`?"
    )


def test_other_errors_get_no_import_fix() -> None:
    assert import_fix(ValueError("x"), "/repo") is None


def test_import_error_fix_reaches_note_error(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "import_typo", cell("import matplotlb"))

    assert [error.kind for error in result.errors] == [ErrorKind.EXCEPTION]
    assert result.errors[0].fix == "correct the name: did you mean 'matplotlib'? It is installed."


def test_private_exception_suggests_public_base(runner: NoteRunner, root: Path) -> None:
    code = "class _Hidden(ValueError):\n    pass\nraise _Hidden('x')"
    result = run(runner, root, "private", cell(code))

    assert 'declare it with raises="ValueError"' in result.errors[0].fix


def test_memory_error_names_limit(root: Path) -> None:
    options = ExecutionOptions(memory_limit=1024**3)
    code = "import numpy as np\nbuffer = np.empty(2 * 2**30, dtype=np.uint8)"
    with NoteRunner(root=root, options=options) as limited:
        result = run(limited, root, "memory", cell(code))

    assert [error.kind for error in result.errors] == [ErrorKind.EXCEPTION]
    assert result.errors[0].message.startswith(
        "cell 1 ran out of memory (the note's memory limit is 1 GiB, set as RLIMIT_AS): "
    )
    assert "execute.memory_limit" in result.errors[0].fix


# Encodings


def test_byte_order_mark_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf---\ntitle: T\n---\n")
    assert read_source(path, "bom.md") == "---\ntitle: T\n---\n"


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_line_ends_normalised(tmp_path: Path, newline: bytes) -> None:
    path = tmp_path / "crlf.md"
    path.write_bytes(b"a" + newline + b"b" + newline)
    assert read_source(path, "crlf.md") == "a\nb\n"


def test_invalid_utf8_located_by_byte(tmp_path: Path) -> None:
    path = tmp_path / "gbk.md"
    prefix = "---\ntitle: T\n---\n\nab"
    path.write_bytes(prefix.encode("ascii") + "激活".encode("gb18030") + b"\n")

    error = read_source(path, "notebooks/gbk.md")

    assert not isinstance(error, str)
    assert error.kind == ErrorKind.ENCODING
    assert error.line == 5
    offset = len(prefix)
    assert error.message == (
        f"the file is not valid UTF-8: byte 0xbc at byte offset {offset} (line 5, byte 3 of "
        "the line): invalid start byte"
    )
    assert "UTF-8" in error.fix


def test_invalid_utf8_offset_counts_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom_gbk.md"
    path.write_bytes(b"\xef\xbb\xbf" + b"x\xff")
    error = read_source(path, "bom_gbk.md")
    assert not isinstance(error, str)
    assert "byte 0xff at byte offset 4 (line 1, byte 5 of the line)" in error.message


def test_invalid_utf8_note_not_run(runner: NoteRunner, root: Path) -> None:
    path = root / "notebooks" / "latin1.md"
    text = '---\ntitle: T\n---\n\nCafé\n\n```python\nprint("ran")\n```\n'
    path.write_bytes(text.encode("latin-1"))

    result = runner.run_note(path)

    assert [error.kind for error in result.errors] == [ErrorKind.ENCODING]
    assert result.errors[0].location == "notebooks/latin1.md:5"
    assert result.markdown == ""


def test_bom_and_crlf_note_equals_clean(runner: NoteRunner, root: Path) -> None:
    text = HEADER + "Σ $x$\n\n" + cell('print("一")') + "```pycon\n>>> 1 + 1\n2\n```\n"
    clean = run(runner, root, "enc_clean", text, header="")
    variants = {
        "enc_bom": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "enc_crlf": text.replace("\n", "\r\n").encode("utf-8"),
    }
    for name, data in variants.items():
        path = root / "notebooks" / f"{name}.md"
        path.write_bytes(data)
        result = runner.run_note(path)
        assert_ok(result)
        assert result.markdown == clean.markdown, name
        assert result.formulas == clean.formulas, name


# Front matter


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the note is empty"),
        ("\n\n  \n", 1, "the note is empty"),
        ("---\ntitle: T\n\n正文\n", 1, "the YAML front matter opened at line 1 is never closed"),
        ("正文\n", 1, "missing YAML front matter"),
        (
            "---\ntitle: [a\n---\n",
            3,
            "invalid YAML in front matter: expected ',' or ']', but got '<stream end>' (while "
            "parsing a flow sequence that starts at line 2)",
        ),
    ],
)
def test_front_matter_problem_named(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "note.md"
    path.write_text(text, encoding="utf-8")
    note = parse_note(path, root=tmp_path)

    assert [(error.kind, error.line) for error in note.errors] == [(ErrorKind.FRONT_MATTER, line)]
    assert note.errors[0].message == message
    assert note.errors[0].fix


def test_note_with_only_prose_passes(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "prose", "# 只有正文\n\n没有代码单元。\n")
    assert_ok(result)
    assert "没有代码单元。" in result.markdown


# Display math glued to text in list items (Python-Markdown needs 4 spaces after a blank line)


def render(text: str) -> str:
    converter = markdown.Markdown(
        extensions=["pymdownx.arithmatex"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    return converter.convert(text)


@pytest.mark.parametrize(
    "text",
    [
        "- item with $x$, and\n  $$\\tanh(x) = 1$$",
        "1. item $$y$$ tail",
        "- outer\n    - nested $$y$$ tail",
        "> - quoted $$q$$ more",
        "- rows\n  $$\\begin{cases}\n  1 & x > 0 \\\\\n  0 & x \\le 0\n  \\end{cases}$$ done",
    ],
)
def test_display_math_in_lists_reaches_page(text: str) -> None:
    lines = text.splitlines()
    normalised = "\n".join(normalise_display_math(lines, set()))
    formulas = scan_formulas(lines, set())

    assert any(formula.display for formula in formulas)
    assert find_lost_formulas(formulas, render(normalised), "n.md") == []


def test_python_version_in_syntax_fix(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "syntax", cell("x = (1 +"))
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert result.errors[0].fix == (
        f"correct the syntax at line {HEADER_LINES + 2}; the cells run as Python {version}"
    )

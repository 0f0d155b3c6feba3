"""The ``>>>`` examples of notes (```pycon fences) and of module docstrings, run by the engine.

The module examples use the fixture copy tests/data/doctest_site/notebooks/smallact/, a small
stand-in for actlib, so that a test can make one of its expected values drift.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from noteexec import ErrorKind, ExampleResult, ExecutionOptions, NoteResult, NoteRunner, parse_note
from noteexec._examples import module_blocks
from noteexec._units import plan_note

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "data" / "doctest_site"
HEADER = "---\ntitle: 示例\n---\n\n"
HEADER_LINES = 4


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("examples") / "site"
    shutil.copytree(FIXTURE, path)
    return path


@pytest.fixture(scope="module")
def runner(root: Path) -> Iterator[NoteRunner]:
    options = ExecutionOptions(timeout=30, deadline_grace=1.0)
    with NoteRunner(root=root, options=options) as started:
        yield started


def write(root: Path, name: str, body: str) -> Path:
    path = root / "notebooks" / f"{name}.md"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def run(runner: NoteRunner, root: Path, name: str, body: str) -> NoteResult:
    return runner.run_note(write(root, name, body))


def pycon(session: str) -> str:
    return f"```pycon\n{session}\n```\n\n"


def cell(code: str) -> str:
    return f"```python\n{code}\n```\n\n"


def errors_text(result: NoteResult | ExampleResult) -> str:
    return "\n\n".join(str(error) for error in result.errors)


def assert_ok(result: NoteResult | ExampleResult) -> None:
    assert result.errors == (), errors_text(result)


def only_error(result: NoteResult | ExampleResult) -> str:
    assert len(result.errors) == 1, errors_text(result)
    return str(result.errors[0])


# Examples in notes


def test_drifted_note_example_reported(runner: NoteRunner, root: Path) -> None:
    body = pycon(">>> import numpy as np\n>>> np.float64(1) / 4\nnp.float64(0.3)")
    result = run(runner, root, "drift", body)
    message = only_error(result)
    # Line 1 of the body is the fence; the >>> of the drifted example is body line 3.
    assert message.startswith(f"notebooks/drift.md:{HEADER_LINES + 3}: example output differs")
    assert "the ```pycon fence at line 5" in message
    assert ">>> np.float64(1) / 4\nExpected:\n    np.float64(0.3)\nGot:\n    np.float64(0.25)" in (
        message
    )
    assert "Fix: " in message
    assert result.errors[0].kind is ErrorKind.EXAMPLE


def test_matching_note_example_passes(runner: NoteRunner, root: Path) -> None:
    assert_ok(run(runner, root, "match", pycon(">>> 6 * 7\n42\n>>> print('a\\nb')\na\nb")))


def test_example_ignores_note_print_options(runner: NoteRunner, root: Path) -> None:
    body = cell(
        "import numpy as np\nnp.set_printoptions(precision=2)\nprint(np.array([1 / 3]))"
    ) + pycon(">>> import numpy as np\n>>> np.array([1 / 3])\narray([0.33333333])")
    result = run(runner, root, "printoptions", body)
    assert_ok(result)
    assert "<code>[0.33]\n" in result.markdown


def test_example_ignores_note_monkeypatch(runner: NoteRunner, root: Path) -> None:
    body = cell("import smallact\nsmallact.logistic = lambda x: 0") + pycon(
        ">>> import smallact\n>>> smallact.logistic(0.0)\nnp.float64(0.5)"
    )
    assert_ok(run(runner, root, "monkeypatch", body))


def test_example_starts_from_empty_namespace(runner: NoteRunner, root: Path) -> None:
    body = cell("answer = 42") + pycon(">>> answer\n42")
    message = only_error(run(runner, root, "namespace", body))
    assert "example raised NameError: name 'answer' is not defined" in message
    assert "examples run in a new Python session" in message


def test_note_fails_when_only_example_drifts(runner: NoteRunner, root: Path) -> None:
    body = cell("x = 1") + pycon(">>> 1 + 1\n3")
    result = run(runner, root, "only_example", body)
    assert [error.kind for error in result.errors] == [ErrorKind.EXAMPLE]
    assert not result.ok


def test_ellipsis_needs_directive(runner: NoteRunner, root: Path) -> None:
    session = ">>> list(range(20))\n[0, 1, 2, ..., 19]"
    assert "Expected:\n    [0, 1, 2, ..., 19]" in only_error(
        run(runner, root, "no_ellipsis", pycon(session))
    )
    directive = ">>> list(range(20))  # doctest: +ELLIPSIS\n[0, 1, 2, ..., 19]"
    assert_ok(run(runner, root, "ellipsis", pycon(directive)))


def test_whitespace_compared_exactly(runner: NoteRunner, root: Path) -> None:
    session = ">>> print('a  b')\na b"
    assert "Got:\n    a  b" in only_error(run(runner, root, "spaces", pycon(session)))
    directive = ">>> print('a  b')  # doctest: +NORMALIZE_WHITESPACE\na b"
    assert_ok(run(runner, root, "normalised", pycon(directive)))


def test_expected_traceback_passes(runner: NoteRunner, root: Path) -> None:
    session = (
        ">>> int('x')\nTraceback (most recent call last):\n    ...\nValueError: invalid literal"
    )
    message = only_error(run(runner, root, "wrong_traceback", pycon(session)))
    assert "example output differs" in message
    session = (
        ">>> int('x')\nTraceback (most recent call last):\n    ...\n"
        "ValueError: invalid literal for int() with base 10: 'x'"
    )
    assert_ok(run(runner, root, "traceback", pycon(session)))


def test_unexpected_exception_shows_traceback(runner: NoteRunner, root: Path) -> None:
    message = only_error(run(runner, root, "raises", pycon(">>> 1 / 0\n1")))
    assert f"notebooks/raises.md:{HEADER_LINES + 2}: example raised ZeroDivisionError" in message
    assert "Got:\n    Traceback (most recent call last):" in message
    assert "ZeroDivisionError: division by zero" in message


def test_indented_fence_reports_file_line(runner: NoteRunner, root: Path) -> None:
    body = "- 列表项：\n\n  ```pycon\n  >>> 2 ** 10\n  1000\n  ```\n"
    message = only_error(run(runner, root, "indented", body))
    assert message.startswith(f"notebooks/indented.md:{HEADER_LINES + 4}: ")
    assert "Got:\n    1024" in message


def test_fence_without_prompt_not_run(runner: NoteRunner, root: Path) -> None:
    note = parse_note(write(root, "no_prompt", pycon("$ python -V\nPython 3.11")), root=root)
    assert note.examples == ()
    assert note.errors == ()


def test_malformed_example_is_note_error(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "malformed", cell("print('ran')") + pycon(">>>1 + 1\n2"))
    message = only_error(result)
    # The cell takes body lines 1-4; the fence opens on line 5 and the bad prompt is on line 6.
    assert message.startswith(f"notebooks/malformed.md:{HEADER_LINES + 6}: doctest cannot parse")
    assert "lacks blank after >>>" in message
    assert "ran" not in result.markdown.split("```")[-1]


def test_example_timeout_reported(runner: NoteRunner, root: Path) -> None:
    header = "---\ntitle: 超时\nexecute:\n  timeout: 0.5\n---\n\n"
    path = root / "notebooks" / "slow_example.md"
    path.write_text(header + pycon(">>> import time\n>>> time.sleep(30)"), encoding="utf-8")
    result = runner.run_note(path)
    assert [error.kind for error in result.errors] == [ErrorKind.TIMEOUT]
    assert str(result.errors[0]).startswith("notebooks/slow_example.md:9: the examples in")


def test_dead_example_process_reported(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "exit", pycon(">>> import os\n>>> os._exit(3)"))
    message = only_error(result)
    assert result.errors[0].kind is ErrorKind.WORKER_DIED
    assert "exited with status 3" in message


def test_examples_run_parallel_equals_serial(root: Path) -> None:
    paths = [
        write(root, f"parallel{index}", cell(f"print({index})") + pycon(session))
        for index, session in enumerate(
            [
                ">>> 1 + 1\n2",
                ">>> 2 + 2\n5",
                ">>> import numpy as np\n>>> np.arange(3)\narray([0, 1, 2])",
            ]
        )
    ]
    outputs = []
    for jobs in (1, 3):
        with NoteRunner(root=root, options=ExecutionOptions(jobs=jobs)) as started:
            results = started.run_notes(paths)
        outputs.append([result.to_json() for result in results.values()])
    assert outputs[0] == outputs[1]
    assert "np.float64" not in outputs[0][1]
    assert '"kind": "example"' in outputs[0][1]


# Examples in module docstrings (the fixture copy of a small module)


@pytest.fixture
def module_copy(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    return site


def test_module_examples_pass(runner: NoteRunner, root: Path) -> None:
    sources = sorted((root / "notebooks" / "smallact").glob("*.py"))
    results = runner.run_examples(sources)
    for result in results.values():
        assert_ok(result)
    counts = {result.path: result.examples for result in results.values()}
    assert counts == {
        "notebooks/smallact/__init__.py": 2,
        "notebooks/smallact/_functions.py": 6,
    }


def test_drifted_docstring_reported(module_copy: Path) -> None:
    module = module_copy / "notebooks" / "smallact" / "_functions.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace("np.float64(0.25)", "np.float64(0.2)"), encoding="utf-8")
    line = text.splitlines().index("    >>> logistic_grad(0.0)") + 1

    with NoteRunner(root=module_copy) as started:
        result = started.run_examples([module])[module]

    message = only_error(result)
    assert message.startswith(f"notebooks/smallact/_functions.py:{line}: example output differs")
    assert "the docstring of smallact._functions.logistic_grad" in message
    assert "Expected:\n    np.float64(0.2)\nGot:\n    np.float64(0.25)" in message


def test_note_examples_via_run_examples(runner: NoteRunner, root: Path) -> None:
    path = write(root, "examples_only", cell("raise ValueError") + pycon(">>> 3 * 3\n10"))
    result = runner.run_examples([path])[path]
    assert result.examples == 1
    assert [error.kind for error in result.errors] == [ErrorKind.EXAMPLE]


def test_docstrings_found_in_source_order() -> None:
    source = (
        '"""Module.\n\n>>> 1\n1\n"""\n\n'
        "class Shape:\n"
        '    """Class.\n\n    >>> 2\n    2\n    """\n\n'
        "    def area(self):\n"
        '        """Method.\n\n        >>> 3\n        3\n        """\n\n'
        "        def inner():\n"
        '            """Nested in a function: not collected.\n\n            >>> 4\n            4\n'
        '            """\n\n'
        "def scale():\n"
        '    """Function.\n\n    >>> 5\n    5\n    """\n'
    )
    lines = source.splitlines()

    def line_of(text: str) -> int:
        return next(number for number, line in enumerate(lines, 1) if text in line)

    blocks, errors = module_blocks("pkg/shapes.py", source, name="pkg.shapes")
    assert errors == []
    assert [(block.name, block.line) for block in blocks] == [
        ("pkg.shapes", line_of('"""Module.')),
        ("pkg.shapes.Shape", line_of('"""Class.')),
        ("pkg.shapes.Shape.area", line_of('"""Method.')),
        ("pkg.shapes.scale", line_of('"""Function.')),
    ]
    # A block's lineno is the 0-based line of its text; doctest adds the example's offset.
    assert blocks[2].lineno + 2 + 1 == line_of(">>> 3")


def test_note_limits_apply_to_examples(root: Path) -> None:
    header = '---\ntitle: 限制\nexecute:\n  timeout: 7\n  memory_limit: "2 GiB"\n---\n\n'
    path = root / "notebooks" / "limits.md"
    path.write_text(header + cell("x = 1") + pycon(">>> 1\n1"), encoding="utf-8")
    unit = plan_note(path, root=root, options=ExecutionOptions(), cache=None)
    example_job = unit.jobs[1]
    assert example_job.request["kind"] == "examples"
    assert example_job.request["memory_limit"] == 2 * 1024**3
    assert example_job.timeouts == {1: 7.0}

"""Running notes through the forkserver: Jupyter semantics, failures, isolation, processes."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from noteexec import (
    AllowedWarning,
    ErrorKind,
    ExecutionOptions,
    NoteResult,
    NoteRunner,
    render_error_panel,
)
from notetools import HEADER_LINES, cell, run, write

REPO = Path(__file__).resolve().parent.parent
NOTO_SANS_SC = (
    REPO / "node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engine")
    (path / "notebooks").mkdir()
    return path


@pytest.fixture(scope="module")
def runner(root: Path) -> Iterator[NoteRunner]:
    options = ExecutionOptions(fonts=(NOTO_SANS_SC,), timeout=30, deadline_grace=1.0)
    with NoteRunner(root=root, options=options) as started:
        yield started


def only_error(result: NoteResult) -> str:
    assert len(result.errors) == 1, "\n\n".join(str(e) for e in result.errors)
    return str(result.errors[0])


def assert_ok(result: NoteResult) -> None:
    assert result.errors == (), "\n\n".join(str(e) for e in result.errors)


def process_gone(pid: int, within: float = 10.0) -> bool:
    """Wait until no process `pid` exists (reaped, not a zombie)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


# Jupyter semantics


def test_stdout_escaped_and_last_expression_shown(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "semantics", cell('print("<script>alert(1)</script>")\n6 * 7'))
    assert_ok(result)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.markdown
    assert "<script>" not in result.markdown.split("```")[-1]
    assert '<div class="notes-output notes-result"><pre><code>42\n' in result.markdown


def test_trailing_semicolon_hides_result(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "semicolon", cell("6 * 7;"))
    assert_ok(result)
    assert "notes-result" not in result.markdown


def test_namespace_shared_between_cells(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "namespace", cell("x = 20") + cell("x + 1"))
    assert_ok(result)
    assert "<code>21\n" in result.markdown


def test_outputs_keep_their_order(runner: NoteRunner, root: Path) -> None:
    code = (
        "from IPython.display import Markdown, display\n"
        'print("first")\ndisplay(Markdown("**second**"))\nprint("third")'
    )
    result = run(runner, root, "order", cell(code))
    assert_ok(result)
    markdown = result.markdown
    assert markdown.index("first") < markdown.index("**second**") < markdown.index("third")


def test_rich_representations(runner: NoteRunner, root: Path) -> None:
    code = (
        "class Shape:\n"
        "    def _repr_svg_(self):\n"
        '        return \'<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>\'\n'
        "class Formula:\n"
        "    def _repr_latex_(self):\n"
        '        return "$$f(x) = x^2$$"\n'
        "display(Shape())\nFormula()"
    )
    result = run(runner, root, "rich", cell(code))
    assert_ok(result)
    assert '<div class="notes-output notes-svg">\n<svg' in result.markdown
    assert "\n$$f(x) = x^2$$\n" in result.markdown


def test_hide_input_and_output_tags(runner: NoteRunner, root: Path) -> None:
    body = cell('print("shown output")', 'tags=["hide-input"]')
    body += cell('print("hidden output")', 'tags=["hide-output"]')
    result = run(runner, root, "hide", body)
    assert_ok(result)
    assert 'print("shown output")' not in result.markdown
    assert "shown output" in result.markdown
    assert 'print("hidden output")' in result.markdown
    assert "<code>hidden output" not in result.markdown


def test_output_of_c_code_and_subprocesses(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "fd", cell('import os\nos.system("echo from-the-shell");'))
    assert_ok(result)
    assert "from-the-shell" in result.markdown


def test_note_runs_in_its_folder(runner: NoteRunner, root: Path) -> None:
    (root / "notebooks" / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = run(
        runner, root, "folder", cell('with open("table.csv") as f:\n    print(f.read().split()[1])')
    )
    assert_ok(result)
    assert "<code>1,2\n" in result.markdown


def test_plt_show_harmless_and_figures_closed(runner: NoteRunner, root: Path) -> None:
    body = cell(
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
        'alt="一条直线"',
    )
    body += cell("print(plt.get_fignums())")
    result = run(runner, root, "show", body)
    assert_ok(result)
    assert result.markdown.count('class="notes-figure"') == 1
    assert "<code>[]\n" in result.markdown


# Failures


def test_exception_located_and_traced(runner: NoteRunner, root: Path) -> None:
    body = (
        cell("def divide(a):\n    return a / 0") + cell("x = 1\ndivide(x)") + cell('print("after")')
    )
    result = run(runner, root, "exception", body)
    message = only_error(result)
    error = result.errors[0]
    assert error.kind == ErrorKind.EXCEPTION
    assert error.cell == 2
    # Lines: cell 1 fence at 5 (def at 6, return at 7); cell 2 fence at 10, divide(x) at 12.
    assert error.line == 12
    assert message.startswith(
        "notebooks/exception.md:12: cell 2 raised ZeroDivisionError: division by zero"
    )
    assert "  notebooks/exception.md:12 (cell 2), in <module>\n    divide(x)" in message
    assert "  notebooks/exception.md:7 (cell 1), in divide\n    return a / 0" in message
    assert "\nFix: " in message
    assert "interactiveshell" not in message
    assert "after" not in result.markdown.split("```")[-1]


def test_syntax_error_line(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "syntax", cell("x = 1\ny = (2 +"))
    only_error(result)
    assert result.errors[0].kind == ErrorKind.EXCEPTION
    assert "SyntaxError" in result.errors[0].message
    assert result.errors[0].line == HEADER_LINES + 3


def test_declared_exception_shown_and_note_goes_on(runner: NoteRunner, root: Path) -> None:
    body = cell('raise ValueError("bad input")', 'raises="ValueError"') + cell('print("after")')
    result = run(runner, root, "raises", body)
    assert_ok(result)
    assert '<div class="notes-output notes-error"><pre><code>ValueError: bad input' in (
        result.markdown
    )
    assert "<code>after\n" in result.markdown


def test_declared_exception_subclass_matches(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "raises_sub", cell("{}['k']", 'raises="LookupError"'))
    assert_ok(result)


def test_declared_exception_missing(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "raises_missing", cell("x = 1", 'raises="ValueError"'))
    only_error(result)
    assert result.errors[0].kind == ErrorKind.MISSING_EXCEPTION
    assert result.errors[0].line == HEADER_LINES + 1


def test_declared_exception_of_other_type(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "raises_other", cell("1 / 0", 'raises="ValueError"'))
    message = only_error(result)
    assert 'raised ZeroDivisionError but declares raises="ValueError"' in message


def test_undeclared_warning_fails(runner: NoteRunner, root: Path) -> None:
    code = "import numpy as np\nx = 1\nnp.exp(np.float64(1000))"
    result = run(runner, root, "warning", cell(code))
    message = only_error(result)
    assert result.errors[0].kind == ErrorKind.WARNING
    assert result.errors[0].line == HEADER_LINES + 4
    assert "RuntimeWarning: overflow encountered in exp" in message
    assert 'warns="RuntimeWarning"' in message


def test_declared_warning_shown(runner: NoteRunner, root: Path) -> None:
    code = "import warnings\nwarnings.warn('careful', RuntimeWarning)"
    result = run(runner, root, "warns", cell(code, 'warns="RuntimeWarning"'))
    assert_ok(result)
    assert 'notes-warning"><pre><code>RuntimeWarning: careful' in result.markdown


def test_declared_warning_missing(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "warns_missing", cell("x = 1", 'warns="RuntimeWarning"'))
    only_error(result)
    assert result.errors[0].kind == ErrorKind.MISSING_WARNING


def test_repeated_warning_recorded_every_time(runner: NoteRunner, root: Path) -> None:
    code = "import warnings\nfor _ in range(3):\n    warnings.warn('again')"
    message = only_error(run(runner, root, "always", cell(code)))
    assert "UserWarning: again (x3)" in message


def test_log_record_counts_as_warning(runner: NoteRunner, root: Path) -> None:
    code = 'import logging\nlogging.getLogger("somelib").warning("disk almost full")'
    message = only_error(run(runner, root, "logged", cell(code)))
    assert "LoggedWarning: disk almost full" in message


def test_note_logging_configuration_respected(runner: NoteRunner, root: Path) -> None:
    code = (
        "import logging, sys\n"
        "logging.basicConfig(stream=sys.stdout, level=logging.INFO, format='%(message)s')\n"
        'logging.getLogger("somelib").info("step done")'
    )
    result = run(runner, root, "logging_config", cell(code))
    assert_ok(result)
    assert "<code>step done\n" in result.markdown


def test_allowed_warning_needs_matching_entry(root: Path) -> None:
    allowed = AllowedWarning(
        category="DeprecationWarning",
        message="^old API",
        module="__main__",
        reason="the old API is what this note documents",
    )
    body = cell("import warnings\nwarnings.warn('old API', DeprecationWarning)")
    body += cell("warnings.warn('other text', DeprecationWarning)")
    with NoteRunner(root=root, options=ExecutionOptions(allowed_warnings=(allowed,))) as other:
        result = run(other, root, "allowed", body)
    assert [(error.kind, error.cell) for error in result.errors] == [(ErrorKind.WARNING, 2)]
    assert "old API" not in result.markdown.split("```")[4]


def test_cell_timeout_interrupts_at_line(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "timeout", cell("import time\ntime.sleep(30)", "timeout=0.5"))
    message = only_error(result)
    assert result.errors[0].kind == ErrorKind.TIMEOUT
    assert result.errors[0].line == HEADER_LINES + 3
    assert "timed out after 0.5 s" in message
    assert "time.sleep(30)" in message


def test_note_timeout_from_front_matter(runner: NoteRunner, root: Path) -> None:
    header = "---\ntitle: T\nexecute:\n  timeout: 0.5\n---\n\n"
    result = run(runner, root, "note_timeout", cell("import time\ntime.sleep(30)"), header)
    assert "timed out after 0.5 s" in only_error(result)


def test_stuck_cell_killed_with_its_stack(runner: NoteRunner, root: Path) -> None:
    # SIGALRM blocked: the in-process timeout cannot fire, as in a long loop of C code.
    code = (
        "import signal, time\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
        "time.sleep(60)"
    )
    result = run(runner, root, "stuck", cell(code, "timeout=0.5"))
    message = only_error(result)
    assert result.errors[0].kind == ErrorKind.TIMEOUT
    assert "was killed" in message
    assert result.errors[0].line == HEADER_LINES + 4
    assert "notebooks/stuck.md:8 (cell 1)" in message


def test_process_exit_reported_with_cell(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "exit", cell("x = 1") + cell("import os\nos._exit(3)"))
    message = only_error(result)
    assert result.errors[0].kind == ErrorKind.WORKER_DIED
    assert result.errors[0].cell == 2
    assert "exited with status 3 while running cell 2" in message


def test_crash_reported_with_line(runner: NoteRunner, root: Path) -> None:
    code = "import os, signal\nx = 1\nos.kill(os.getpid(), signal.SIGSEGV)"
    result = run(runner, root, "segfault", cell(code))
    message = only_error(result)
    assert "killed by signal SIGSEGV while running cell 1" in message
    assert result.errors[0].line == HEADER_LINES + 4


def test_sys_exit_is_an_exception(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "sys_exit", cell("import sys\nsys.exit(0)") + cell("y = 1"))
    message = only_error(result)
    assert "raised SystemExit" in message


def test_memory_limit_from_front_matter(runner: NoteRunner, root: Path) -> None:
    header = '---\ntitle: T\nexecute:\n  memory_limit: "256 MiB"\n---\n\n'
    code = "import numpy as np\nbig = np.ones(2**30)"
    message = only_error(run(runner, root, "memory", cell(code), header))
    assert "MemoryError" in message


def test_input_reads_end_of_file(runner: NoteRunner, root: Path) -> None:
    message = only_error(run(runner, root, "stdin", cell("input()")))
    assert "EOFError" in message


def test_memory_address_in_output_fails(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "address", cell("object()"))
    only_error(result)
    assert result.errors[0].kind == ErrorKind.NONDETERMINISTIC_OUTPUT


def test_invalid_note_not_run(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "invalid", cell('print("ran")') + "```\nbare\n```\n")
    assert [error.kind for error in result.errors] == [ErrorKind.FENCE]
    assert "<code>ran" not in result.markdown


def test_error_panel_escapes_text(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "panel", cell('raise ValueError("<b>bold</b>")'))
    panel = render_error_panel(result.errors)
    assert "&lt;b&gt;bold&lt;/b&gt;" in panel
    assert "<b>" not in panel
    assert 'class="admonition failure notes-error-panel"' in panel


def test_result_round_trips_through_json(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "json", "Math $x$\n\n" + cell("1 / 0"))
    assert NoteResult.from_json(result.to_json()) == result


# Isolation and reproducibility


LEAKY = cell(
    "import json, sys, builtins\n"
    "import numpy as np\nimport matplotlib as mpl\n"
    "np.set_printoptions(precision=2)\n"
    'mpl.rcParams["lines.linewidth"] = 9\n'
    'json.dumps = lambda *args, **kwargs: "patched"\n'
    'sys.modules["leaked_module"] = json\n'
    "builtins.leaked_name = 1\n"
    'import os\nos.environ["LEAKED"] = "1"'
)
CHECK = cell(
    "import json, sys, builtins, os\n"
    "import numpy as np\nimport matplotlib as mpl\n"
    'assert np.get_printoptions()["precision"] == 8\n'
    'assert mpl.rcParams["lines.linewidth"] == 1.8\n'
    'assert json.dumps([1]) == "[1]"\n'
    'assert "leaked_module" not in sys.modules\n'
    'assert not hasattr(builtins, "leaked_name")\n'
    'assert "LEAKED" not in os.environ\n'
    'print("isolated")'
)


def test_changes_never_reach_next_note(runner: NoteRunner, root: Path) -> None:
    assert_ok(run(runner, root, "leaky", LEAKY))
    result = run(runner, root, "check", CHECK)
    assert_ok(result)
    assert "<code>isolated" in result.markdown


def test_parallel_notes_isolated(runner: NoteRunner, root: Path) -> None:
    paths = [write(root, "leaky_parallel", LEAKY), write(root, "check_parallel", CHECK)]
    results = runner.run_notes(paths)
    assert list(results) == paths
    for result in results.values():
        assert_ok(result)


def test_actlib_not_preloaded(runner: NoteRunner, root: Path) -> None:
    result = run(runner, root, "preload", cell('import sys\nprint("actlib" in sys.modules)'))
    assert_ok(result)
    assert "<code>False\n" in result.markdown


RANDOM = cell(
    "import random\nimport numpy as np\n"
    'print(random.random(), np.random.rand(), hash("activation"))'
)


def test_random_and_hash_equal_across_runs(runner: NoteRunner, root: Path) -> None:
    first = run(runner, root, "random", RANDOM)
    second = run(runner, root, "random", RANDOM)
    with NoteRunner(root=root) as fresh:
        third = run(fresh, root, "random", RANDOM)
    assert_ok(first)
    assert first.markdown == second.markdown == third.markdown


# Processes


def test_processes_gone_after_note(runner: NoteRunner, root: Path) -> None:
    code = (
        "import os, subprocess\n"
        'child = subprocess.Popen(["sleep", "60"])\n'
        "print(os.getpid(), child.pid)"
    )
    result = run(runner, root, "background", cell(code))
    assert_ok(result)
    note_pid, sleep_pid = map(int, re.findall(r"<code>(\d+) (\d+)", result.markdown)[0])
    assert process_gone(note_pid)
    assert process_gone(sleep_pid)


class Interrupted(KeyboardInterrupt):
    """KeyboardInterrupt that carries what the test needs to check afterwards."""

    def __init__(self, server_pid: int, worker: threading.Thread) -> None:
        super().__init__()
        self.server_pid = server_pid
        self.worker = worker


def start_and_interrupt(root: Path, path: Path, pid_file: Path) -> None:
    """Run the note in a thread and raise KeyboardInterrupt once it runs, as Ctrl-C would."""
    with NoteRunner(root=root) as interrupted:
        interrupted.start()
        assert interrupted._process is not None
        worker = threading.Thread(target=interrupted.run_note, args=(path,))
        worker.start()
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        raise Interrupted(interrupted._process.pid, worker)


def test_interrupt_kills_running_note(root: Path) -> None:
    # Outside the root: notes must not write into the repository.
    pid_file = root.parent / f"{root.name}-interrupted.pid"
    code = (
        "import os, time\n"
        f"with open({str(pid_file)!r}, 'w') as f:\n"
        "    f.write(str(os.getpid()))\n"
        "time.sleep(60)"
    )
    path = write(root, "interrupted", cell(code))

    with pytest.raises(Interrupted) as caught:
        start_and_interrupt(root, path, pid_file)

    caught.value.worker.join(timeout=30)
    assert not caught.value.worker.is_alive()
    assert process_gone(int(pid_file.read_text()))
    assert process_gone(caught.value.server_pid)


@pytest.fixture
def interruptible() -> Iterator[None]:
    """Let SIGINT raise KeyboardInterrupt even when the test run started with it ignored."""
    # A shell starts background jobs with SIGINT ignored, and Python then installs no handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("interruptible")
def test_interrupt_during_run_notes(root: Path) -> None:
    pid_file = root.parent / f"{root.name}-interrupted_many.pid"
    code = (
        "import os, time\n"
        f"with open({str(pid_file)!r}, 'w') as f:\n"
        "    f.write(str(os.getpid()))\n"
        "time.sleep(60)"
    )
    paths = [write(root, "interrupted_many", cell(code)), write(root, "quick", cell("1"))]

    def interrupt_when_running() -> None:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    with NoteRunner(root=root) as interrupted:
        interrupted.start()
        assert interrupted._process is not None
        server_pid = interrupted._process.pid
        threading.Thread(target=interrupt_when_running, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            interrupted.run_notes(paths)

    assert process_gone(int(pid_file.read_text()))
    assert process_gone(server_pid)


def children_of(pid: int) -> list[int]:
    """Return the processes (zombies included) whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_no_children_left_after_close(root: Path) -> None:
    with NoteRunner(root=root) as short_lived:
        run(short_lived, root, "short", cell("x = 1"))
        server_pid = short_lived._process.pid if short_lived._process else 0
        assert server_pid in children_of(os.getpid())
    assert process_gone(server_pid)
    assert server_pid not in children_of(os.getpid())


def test_note_killing_its_group_spares_forkserver(runner: NoteRunner, root: Path) -> None:
    killed = run(runner, root, "kill_self", cell("import os, signal\nos.killpg(0, signal.SIGKILL)"))
    assert [error.kind for error in killed.errors] == [ErrorKind.WORKER_DIED]
    assert "SIGKILL" in killed.errors[0].message
    assert_ok(run(runner, root, "after_kill", cell("1 + 1")))

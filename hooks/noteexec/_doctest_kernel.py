"""The example process: runs one block of ``>>>`` examples as in a new Python session.

This module runs in a process the forkserver forks for one ```` ```pycon ````
fence of a note or one docstring of a module, never in the caller's process.
The examples start from an empty ``__main__`` namespace, so they must import
what they use, as a reader pasting them would. doctest's own
parser reads the block and its `OutputChecker` compares the output exactly:
no option flag is set unless an example requests one with a directive such as
``# doctest: +ELLIPSIS``.
"""

from __future__ import annotations

import doctest
import os
import signal
import socket
import traceback
from types import TracebackType
from typing import Any

from noteexec._guard import WriteGuard
from noteexec._process import CellTimeout, prepare_process
from noteexec._protocol import Message, send_message
from noteexec._tracking import DependencyTracker


class _RecordingRunner(doctest.DocTestRunner):
    """DocTestRunner that records each failure instead of printing it."""

    def __init__(self, root: str) -> None:
        self.checker = doctest.OutputChecker()
        super().__init__(checker=self.checker, verbose=False, optionflags=0)
        self.root = root
        self.recorded: list[dict[str, Any]] = []
        self.current: doctest.Example | None = None
        self.started = 0

    def report_start(self, out: Any, test: doctest.DocTest, example: doctest.Example) -> None:
        self.current = example
        self.started += 1

    def report_success(
        self, out: Any, test: doctest.DocTest, example: doctest.Example, got: str
    ) -> None:
        pass

    def report_failure(
        self, out: Any, test: doctest.DocTest, example: doctest.Example, got: str
    ) -> None:
        self.recorded.append(self.describe(test, example, got, exception=None))

    def report_unexpected_exception(
        self,
        out: Any,
        test: doctest.DocTest,
        example: doctest.Example,
        exc_info: tuple[type[BaseException], BaseException, TracebackType],
    ) -> None:
        if isinstance(exc_info[1], CellTimeout):
            raise exc_info[1]
        got = self.format_exception(exc_info)
        exception = f"{exc_info[0].__qualname__}: {exc_info[1]}"
        self.recorded.append(self.describe(test, example, got, exception=exception))

    def describe(
        self, test: doctest.DocTest, example: doctest.Example, got: str, *, exception: str | None
    ) -> dict[str, Any]:
        # While an example runs, doctest has merged its directives into optionflags.
        return {
            "line": line_of(test, example),
            "source": example.source,
            "difference": self.checker.output_difference(example, got, self.optionflags),
            "exception": exception,
        }

    def format_exception(
        self, exc_info: tuple[type[BaseException], BaseException, TracebackType]
    ) -> str:
        """Format the traceback from the example's own frame on, with repository paths relative."""
        error_type, error, tb = exc_info
        # The first frame is doctest's exec() of the example.
        lines = traceback.format_exception(error_type, error, tb.tb_next or tb)
        return "".join(lines).replace(f'"{self.root}', '"')


def line_of(test: doctest.DocTest, example: doctest.Example) -> int | None:
    """Return the 1-based line of an example's ``>>>`` in the file."""
    if test.lineno is None:
        return None
    return test.lineno + example.lineno + 1


def run_examples(conn: socket.socket, request: Message) -> None:
    """Run the block of examples in `request` and report its record over `conn`."""
    send_message(conn, {"event": "started", "pid": os.getpid()})
    prepare_process(request)
    root = os.path.join(str(request["root"]), "")
    # A blocked write raises in the example, so it fails as an unexpected exception.
    WriteGuard.start(request["root"], request["writable"], None)
    tracker = DependencyTracker.start(request["root"])
    test = doctest.DocTestParser().get_doctest(
        request["text"],
        {"__name__": "__main__"},
        request["name"],
        request["display_path"],
        int(request["lineno"]),
    )

    send_message(conn, {"event": "cell", "number": 1})
    runner = _RecordingRunner(root)
    timed_out = False
    signal.setitimer(signal.ITIMER_REAL, float(request["timeout"]))
    try:
        attempted = runner.run(test, clear_globs=True).attempted
    except CellTimeout:
        timed_out = True
        attempted = runner.started
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    current = runner.current
    record = {
        "number": 1,
        "attempted": attempted,
        "failures": runner.recorded,
        "timeout": timed_out,
        "timeout_line": line_of(test, current) if timed_out and current else None,
    }
    send_message(conn, {"event": "cell-done", "record": record})
    send_message(conn, {"event": "done", "dependencies": tracker.report()})

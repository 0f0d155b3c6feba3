"""`NoteRunner`: starts the forkserver and runs notes in parallel through it."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from noteexec._errors import ForkserverError
from noteexec._options import ExecutionOptions
from noteexec._parse import CodeCell, Note, parse_note
from noteexec._protocol import MessageReader, send_message
from noteexec._result import NoteResult, NoteRun, build_result

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 120.0
"""Seconds the forkserver may take to import numpy, matplotlib and IPython.

It took 0.5 to 2 s on a 2-core machine; the margin covers cold disk caches and
matplotlib building its font cache on first use.
"""

_DUMP_WAIT = 0.5
"""Seconds between asking faulthandler for a stack dump and killing the note."""

_PASSED_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "VIRTUAL_ENV")
_FIXED_ENVIRONMENT = {
    # Set before the interpreter and numpy start: hash order, BLAS threads,
    # matplotlib's backend, and a locale and time zone that do not vary by machine.
    "PYTHONHASHSEED": "0",
    "PYTHONUTF8": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "MPLBACKEND": "agg",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
}


def cell_timeout(note: Note, cell: CodeCell, default: float) -> float:
    """Return a cell's timeout: its own option, else the note's, else `default`."""
    if cell.options.timeout is not None:
        return cell.options.timeout
    if note.front_matter is not None and note.front_matter.execute.timeout is not None:
        return note.front_matter.execute.timeout
    return default


def memory_limit(note: Note, default: int | None) -> int | None:
    """Return the note's address-space limit in bytes, or None for no limit."""
    limit = note.front_matter.execute.memory_limit if note.front_matter else None
    if limit == "unlimited":
        return None
    return default if limit is None else limit


class NoteRunner:
    """Run notes, each in a fresh process forked from a warm forkserver.

    Use as a context manager; leaving it stops the forkserver and kills every
    note process still running::

        with NoteRunner(root=repo, options=ExecutionOptions(fonts=(font,))) as runner:
            results = runner.run_notes(sorted(repo.glob("notebooks/**/*.md")))
    """

    def __init__(self, *, root: Path, options: ExecutionOptions | None = None) -> None:
        self.root = root.resolve()
        self.options = options or ExecutionOptions()
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._running: dict[int, int] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    def __enter__(self) -> NoteRunner:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def socket_path(self) -> Path:
        if self._workdir is None:
            raise ForkserverError("the runner is not started; use `with NoteRunner(...)`")
        return self._workdir / "forkserver.sock"

    def start(self) -> None:
        """Start the forkserver and wait until it accepts notes.

        Raises
        ------
        ForkserverError
            If it exits or does not report ready within `STARTUP_TIMEOUT` seconds.
        """
        if self._process is not None:
            return
        self._workdir = Path(tempfile.mkdtemp(prefix="noteexec-"))
        log_path = self._workdir / "forkserver.log"
        command = [
            sys.executable,
            "-P",
            "-m",
            "noteexec._forkserver",
            str(self.socket_path),
            *(str(font) for font in self.options.fonts),
        ]
        started = time.monotonic()
        with open(log_path, "wb") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=self._environment(),
                cwd=self.root,
                start_new_session=True,
            )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], STARTUP_TIMEOUT)
        line = self._process.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            log_text = log_path.read_text(encoding="utf-8", errors="replace")
            self.close()
            raise ForkserverError(
                f"the note forkserver did not start (command: {' '.join(command)})\n"
                f"{log_text.strip()}\n"
                "Check that numpy, matplotlib and IPython import in this environment."
            )
        logger.debug("forkserver %d ready in %.2f s", self._process.pid, time.monotonic() - started)

    def close(self) -> None:
        """Stop the forkserver and kill the process groups of notes still running."""
        process, self._process = self._process, None
        with self._lock:
            running = list(self._running.values())
        for pid in running:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        if process is not None:
            assert process.stdin is not None
            assert process.stdout is not None
            with contextlib.suppress(OSError):
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def run_notes(self, paths: Iterable[Path]) -> dict[Path, NoteResult]:
        """Run the notes at `paths` in parallel; return the results in the order of `paths`."""
        paths = list(paths)
        workers = max(1, min(self.options.job_count, len(paths)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="noteexec")
        try:
            results = list(pool.map(self.run_note, paths))
        except BaseException:
            # On KeyboardInterrupt, kill the running notes first: the worker
            # threads wait for them, and the pool waits for its threads.
            self.close()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return dict(zip(paths, results, strict=True))

    def run_note(self, path: Path) -> NoteResult:
        """Parse and run the note at `path`; a note with front matter or fence errors is not run."""
        note = parse_note(path, root=self.root)
        return self.execute(note)

    def execute(self, note: Note) -> NoteResult:
        """Run a parsed note and check its outputs."""
        if note.errors:
            return build_result(note, None, self.options.allowed_warnings)
        started = time.monotonic()
        run = self._run(note)
        logger.debug("%s ran in %.2f s", note.path, time.monotonic() - started)
        return build_result(note, run, self.options.allowed_warnings)

    def _environment(self) -> dict[str, str]:
        assert self._workdir is not None
        environment = {name: os.environ[name] for name in _PASSED_ENVIRONMENT if name in os.environ}
        environment.update(_FIXED_ENVIRONMENT)
        environment["IPYTHONDIR"] = str(self._workdir / "ipython")
        environment["NOTEEXEC_FONTS"] = os.pathsep.join(str(f) for f in self.options.fonts)
        return environment

    def _request(self, note: Note, stack_path: Path) -> dict[str, Any]:
        cells = [
            {
                "number": cell.number,
                "line": cell.line,
                "end_line": cell.end_line,
                "source": cell.source,
                "timeout": cell_timeout(note, cell, self.options.timeout),
                "raises": list(cell.options.raises),
            }
            for cell in note.cells
        ]
        digest = hashlib.sha256(note.path.encode("utf-8")).hexdigest()[:8]
        return {
            "path": str(note.abs_path),
            "display_path": note.path,
            "cells": cells,
            "seed": self.options.seed,
            "memory_limit": memory_limit(note, self.options.memory_limit),
            "fonts": [str(font) for font in self.options.fonts],
            "figure_prefix": f"fig-{digest}",
            "stack_path": str(stack_path),
        }

    def _run(self, note: Note) -> NoteRun:
        stack_path = self.socket_path.parent / f"note-{next(self._counter)}.stack"
        request = self._request(note, stack_path)
        run = NoteRun(timeouts={cell["number"]: cell["timeout"] for cell in request["cells"]})
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(self.socket_path))
                send_message(sock, request)
                _Follower(self, run, MessageReader(sock)).follow()
        except OSError as exc:
            run.lost = f"{type(exc).__name__}: {exc}"
        finally:
            if stack_path.exists():
                run.stack += stack_path.read_text(encoding="utf-8", errors="replace")
            for suffix in ("", ".stdout", ".stderr"):
                Path(f"{stack_path}{suffix}").unlink(missing_ok=True)
        return run

    def _track(self, key: int, pid: int | None) -> None:
        with self._lock:
            if pid is None:
                self._running.pop(key, None)
            else:
                self._running[key] = pid


class _Follower:
    """Read one note's messages and enforce its deadlines."""

    def __init__(self, runner: NoteRunner, run: NoteRun, reader: MessageReader) -> None:
        self.runner = runner
        self.run = run
        self.reader = reader
        self.pid: int | None = None
        self.deadline: float | None = time.monotonic() + STARTUP_TIMEOUT
        self.kill_at: float | None = None
        self.key = id(self)

    def follow(self) -> None:
        try:
            while True:
                now = time.monotonic()
                self.enforce_deadlines(now)
                wake = min(t for t in (self.deadline, self.kill_at, now + 60.0) if t is not None)
                message = self.reader.read(timeout=max(0.0, wake - now))
                if message is None:
                    if self.reader.closed:
                        break
                    continue
                self.handle(message)
        finally:
            self.runner._track(self.key, None)
        if self.run.status is None and self.run.lost is None:
            self.run.lost = "the forkserver closed the connection without an exit status"

    def handle(self, message: dict[str, Any]) -> None:
        event = message.get("event")
        grace = self.runner.options.deadline_grace
        if event == "started":
            self.pid = int(message["pid"])
            self.runner._track(self.key, self.pid)
            self.deadline = time.monotonic() + STARTUP_TIMEOUT
        elif event == "cell":
            number = int(message["number"])
            self.run.running_cell = number
            self.deadline = time.monotonic() + self.run.timeouts[number] + grace
        elif event == "cell-done":
            self.run.records.append(message["record"])
            self.run.running_cell = None
            self.deadline = time.monotonic() + grace
        elif event == "done":
            self.run.finished = True
            self.deadline = time.monotonic() + grace
        elif event == "crashed":
            self.run.stack = str(message["traceback"])
        elif event == "exit":
            self.run.status = int(message["status"])
            self.deadline = None
            self.kill_at = None

    def enforce_deadlines(self, now: float) -> None:
        if self.kill_at is not None and now >= self.kill_at:
            self.kill(signal.SIGKILL)
            self.kill_at = None
        if self.deadline is None or now < self.deadline:
            return
        self.deadline = None
        if self.pid is None:
            self.run.lost = "the note process did not start"
            self.reader.closed = True
            return
        self.run.killed_cell = self.run.running_cell
        logger.debug("killing note process %d: past its deadline", self.pid)
        # faulthandler dumps the Python stack even while C code runs; then kill.
        self.kill(signal.SIGUSR1, group=False)
        self.kill_at = now + _DUMP_WAIT

    def kill(self, signum: int, *, group: bool = True) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(OSError):
            if group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)

"""`NoteRunner`: starts the forkserver and runs notes and examples in parallel through it."""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from noteexec._cache import Logger, NoteCache
from noteexec._errors import ForkserverError
from noteexec._examples import ExampleResult
from noteexec._options import ExecutionOptions
from noteexec._protocol import MessageReader, send_message
from noteexec._result import NoteResult, NoteRun
from noteexec._units import Job, Unit, plan_examples, plan_note

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


class NoteRunner:
    """Run notes and examples, each in a fresh process forked from a warm forkserver.

    Use as a context manager; leaving it stops the forkserver and kills every
    process still running::

        with NoteRunner(root=repo, options=ExecutionOptions(fonts=(font,))) as runner:
            results = runner.run_notes(sorted(repo.glob("notebooks/**/*.md")))

    The forkserver starts when the first process is needed, so a run whose
    results all come from `cache` starts none.

    Attributes
    ----------
    executed
        Paths (relative to the root) of the notes and files run so far, in the
        order of the calls. Results taken from the cache are not listed.
    from_cache
        Paths whose results came from the cache.
    """

    def __init__(
        self,
        *,
        root: Path,
        options: ExecutionOptions | None = None,
        cache: NoteCache | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.root = root.resolve()
        self.options = options or ExecutionOptions()
        self.cache = cache
        self.log: Logger = logger or logging.getLogger(__name__)
        self.executed: list[str] = []
        self.from_cache: list[str] = []
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._running: dict[int, int] = {}
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._counter = itertools.count(1)

    def __enter__(self) -> NoteRunner:
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
        """Start the forkserver, unless it runs, and wait until it accepts notes.

        Raises
        ------
        ForkserverError
            If it exits or does not report ready within `STARTUP_TIMEOUT` seconds.
        """
        with self._start_lock:
            if self._process is None:
                self._start()

    def _start(self) -> None:
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
        self.log.debug(
            "forkserver %d ready in %.2f s", self._process.pid, time.monotonic() - started
        )

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
        """Run the notes at `paths` with their examples; return the results in the order of `paths`.

        The cells of every note and each of their ```` ```pycon ```` fences run
        in processes of their own, all in parallel. Results of unchanged notes
        come from the cache.
        """
        paths = list(paths)
        options = self.options
        units = [plan_note(p, root=self.root, options=options, cache=self.cache) for p in paths]
        self._run_units(units)
        results = [unit.finish(options, self.cache) for unit in units]
        return dict(zip(paths, results, strict=True))

    def run_note(self, path: Path) -> NoteResult:
        """Run one note with its examples; a note with front matter or fence errors is not run."""
        return self.run_notes([path])[path]

    def run_examples(self, paths: Iterable[Path]) -> dict[Path, ExampleResult]:
        """Run the ``>>>`` examples of the files at `paths`, each block in a fresh process.

        A ``.py`` file contributes the examples of its docstrings, any other
        file (a note) those of its ```` ```pycon ```` fences. Results of
        unchanged files come from the cache.
        """
        paths = list(paths)
        units = [
            plan_examples(p, root=self.root, options=self.options, cache=self.cache) for p in paths
        ]
        self._run_units(units)
        results = [unit.finish(self.cache) for unit in units]
        return dict(zip(paths, results, strict=True))

    def _run_units(self, units: Sequence[Unit]) -> None:
        """Run the jobs of every unit not found in the cache, in parallel."""
        for unit in units:
            if unit.cached is not None:
                self.from_cache.append(unit.shown)
            else:
                self.executed.append(unit.shown)
                self.log.debug("running %s in %d process(es)", unit.shown, len(unit.jobs))
        jobs = [job for unit in units for job in unit.jobs]
        if not jobs:
            return
        self.start()
        workers = max(1, min(self.options.job_count, len(jobs)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="noteexec")
        try:
            for job, run in zip(jobs, pool.map(self._run, jobs), strict=True):
                job.run = run
        except BaseException:
            # On KeyboardInterrupt, kill the running processes first: the worker
            # threads wait for them, and the pool waits for its threads.
            self.close()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _environment(self) -> dict[str, str]:
        assert self._workdir is not None
        environment = {name: os.environ[name] for name in _PASSED_ENVIRONMENT if name in os.environ}
        environment.update(_FIXED_ENVIRONMENT)
        environment["IPYTHONDIR"] = str(self._workdir / "ipython")
        environment["NOTEEXEC_FONTS"] = os.pathsep.join(str(f) for f in self.options.fonts)
        return environment

    def _run(self, job: Job) -> NoteRun:
        started = time.monotonic()
        stack_path = self.socket_path.parent / f"note-{next(self._counter)}.stack"
        request = {**job.request, "stack_path": str(stack_path)}
        run = NoteRun(timeouts=dict(job.timeouts))
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
        name = request.get("name") or request["display_path"]
        self.log.debug("%s ran in %.2f s", name, time.monotonic() - started)
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
            self.run.dependencies = message.get("dependencies")
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
        self.runner.log.debug("killing process %d: past its deadline", self.pid)
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

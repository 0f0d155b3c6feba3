"""The note process: runs a note's cells in an IPython shell with Jupyter semantics.

This module runs in the process the forkserver forks for one note; it never
runs in the caller's process. The shell is IPython's own `InteractiveShell`, so
the last expression is displayed (unless the cell ends with ``;``),
``display()``, magics and rich representations behave as in Jupyter. The cell
code is compiled with the note's path as file name and its lines shifted to
the lines of the ``.md`` file, so tracebacks, warnings and faulthandler dumps
point at the note itself.
"""

from __future__ import annotations

import ast
import codecs
import io
import json
import logging
import os
import signal
import socket
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, TextIO

from IPython.core.compilerop import CachingCompiler
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets import Type
from traitlets.config import Config

from noteexec._errors import LoggedWarning
from noteexec._guard import RepositoryWriteError, WriteGuard
from noteexec._hints import import_fix
from noteexec._process import CapturedFds, CellTimeout, prepare_process
from noteexec._protocol import Message, class_names, matches_declared, send_message
from noteexec._tracking import DependencyTracker

_IPYTHON_EXIT_HINT = "To exit: use 'exit', 'quit', or Ctrl-D."
_ENGINE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


class _Recorder:
    """Collect a cell's outputs in order, in nbformat's shape, up to the cell's output limit.

    Text (streams and results shown as plain text) counts against `limit`
    bytes of UTF-8. The text past the limit is dropped, but counted, and a
    ``truncated`` output marks the place of the cut. Figures and other rich
    outputs are kept whole. While the cell runs, a stream's text is a list of
    chunks, because appending to one string would copy it on every write.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.outputs: list[dict[str, Any]] = []
        self.limit = limit
        self.kept = 0
        self.dropped = 0
        self.marker: dict[str, Any] | None = None
        self.marker_placed = False

    def stream(self, name: str, text: str) -> None:
        text = self.take(text)
        if text:
            last = self.outputs[-1] if self.outputs else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                last["text"].append(text)
            else:
                self.outputs.append({"output_type": "stream", "name": name, "text": [text]})
        self.place_marker()

    def rich(self, output_type: str, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        text_data = {key: value for key, value in data.items() if isinstance(value, str)}
        if set(text_data) == {"text/plain"}:
            text_data["text/plain"] = self.take(text_data["text/plain"])
        if any(text_data.values()):
            output = {"output_type": output_type, "data": text_data, "metadata": metadata}
            self.outputs.append(output)
        self.place_marker()

    def count_dropped(self, size: int) -> None:
        """Count `size` bytes of text that were not read because the limit was reached."""
        self.dropped += size

    def take(self, text: str) -> str:
        """Return the part of `text` that fits under the limit; count the rest as dropped."""
        if not text or self.limit is None:
            return text
        encoded = text.encode("utf-8", "replace")
        room = self.limit - self.kept
        if len(encoded) <= room:
            self.kept += len(encoded)
            return text
        kept = encoded[:room].decode("utf-8", "ignore")
        kept_size = len(kept.encode("utf-8"))
        self.kept += kept_size
        self.dropped += len(encoded) - kept_size
        if self.marker is None:
            self.marker = {"output_type": "truncated", "limit": self.limit}
        return kept

    def place_marker(self) -> None:
        """Put the truncation marker after the last text kept, once."""
        if self.marker is not None and not self.marker_placed:
            self.marker_placed = True
            self.outputs.append(self.marker)

    def clear(self) -> None:
        """Drop the outputs so far, as ``clear_output()`` does in Jupyter."""
        self.outputs.clear()
        self.marker_placed = False

    def finish(self) -> list[dict[str, Any]]:
        """Return the outputs with streams joined and the size of the dropped text recorded."""
        for output in self.outputs:
            if output["output_type"] == "stream" and isinstance(output["text"], list):
                output["text"] = "".join(output["text"])
        if self.marker is not None:
            self.marker["shown"] = self.kept
            self.marker["dropped"] = self.dropped
        return self.outputs


class _StreamCapture(io.TextIOBase):
    """Stand-in for sys.stdout / sys.stderr that records what the note prints."""

    def __init__(self, recorder: _Recorder, name: str) -> None:
        super().__init__()
        self.recorder = recorder
        self.name = name

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.recorder.stream(self.name, text)
        return len(text)


class _Publisher(DisplayPublisher):
    def publish(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        _shell(self).recorder.rich("display_data", data, metadata or {})

    def clear_output(self, wait: bool = False) -> None:
        _shell(self).recorder.clear()


class _DisplayHook(DisplayHook):
    def write_output_prompt(self) -> None:
        pass

    def write_format_data(
        self, format_dict: dict[str, Any], md_dict: dict[str, Any] | None = None
    ) -> None:
        _shell(self).recorder.rich("execute_result", format_dict, md_dict or {})

    def finish_displayhook(self) -> None:
        self._is_active = False


class _Compiler(CachingCompiler):
    """Compile cells under the note's file name, at the note's line numbers."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.filename = "<note>"
        self.line_offset = 0

    def get_code_name(self, raw_code: str, transformed_code: str, number: int) -> str:
        return self.filename

    def cache(self, transformed_code: str, number: int = 0, raw_code: str | None = None) -> str:
        # Unlike IPython, put nothing in linecache: tracebacks read the lines
        # from the .md file, where the cell's code sits at the same line numbers.
        self._filename_map[self.filename] = number
        return self.filename

    def ast_parse(self, source: str, filename: str = "<unknown>", symbol: str = "exec") -> ast.AST:
        return super().ast_parse("\n" * self.line_offset + source, filename, symbol)


class NoteShell(InteractiveShell):
    """IPython shell that records outputs and exceptions instead of printing them."""

    compiler_class = Type(_Compiler)
    display_pub_class = Type(_Publisher)
    displayhook_class = Type(_DisplayHook)

    def __init__(self, **kwargs: Any) -> None:
        self.recorder = _Recorder()
        self.reported: list[BaseException] = []
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]

    def showtraceback(self, exc_tuple: Any = None, *args: Any, **kwargs: Any) -> None:
        # IPython calls this for exceptions in cells and in display formatters
        # and post-execute callbacks (e.g. drawing a figure); record them all.
        error = exc_tuple[1] if exc_tuple else sys.exc_info()[1]
        if error is not None:
            self.reported.append(error)

    def showsyntaxerror(self, *args: Any, **kwargs: Any) -> None:
        self.showtraceback()


def _shell(component: Any) -> NoteShell:
    shell = component.shell
    assert isinstance(shell, NoteShell)
    return shell


class _LogToWarning(logging.Handler):
    """Turn unhandled WARNING-level log records into `LoggedWarning`, so the warning rules apply.

    matplotlib, for one, reports a glyph missing from a math font through logging.
    """

    def emit(self, record: logging.LogRecord) -> None:
        warnings.warn_explicit(
            LoggedWarning(record.getMessage(), record.name),
            LoggedWarning,
            record.pathname,
            record.lineno,
        )


class _Kernel:
    """Run one note's request and report over the connection."""

    def __init__(self, conn: socket.socket, request: Message) -> None:
        self.conn = conn
        self.request = request
        self.note_path = str(request["path"])
        self.shown_path = str(request["display_path"])
        self.root = os.path.join(str(request["root"]), "")
        self.cells: list[dict[str, Any]] = request["cells"]
        self.captured_fds: CapturedFds = {}
        self.decoders = {
            name: codecs.getincrementaldecoder("utf-8")("replace") for name in ("stdout", "stderr")
        }

    def run(self) -> None:
        send_message(self.conn, {"event": "started", "pid": os.getpid()})
        self.captured_fds = prepare_process(self.request)
        request = self.request
        self.guard = WriteGuard.start(request["root"], request["writable"], self.note_path)
        tracker = DependencyTracker.start(self.request["root"])
        shell = self.start_shell()
        for cell in self.cells:
            send_message(self.conn, {"event": "cell", "number": cell["number"]})
            record = self.run_cell(shell, cell)
            send_message(self.conn, {"event": "cell-done", "record": record})
            if record["stop"]:
                break
        send_message(self.conn, {"event": "done", "dependencies": tracker.report()})

    def start_shell(self) -> NoteShell:
        from noteexec import ipython

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "nocolor"
        config.InlineBackend.figure_formats = {"svg"}
        shell = NoteShell.instance(config=config)
        sys.stdout = _StreamCapture(shell.recorder, "stdout")
        sys.stderr = _StreamCapture(shell.recorder, "stderr")
        # Only records that no handler takes reach lastResort, so a note that
        # configures logging (logging.basicConfig) has its records handled as in Jupyter.
        logging.lastResort = _LogToWarning(logging.WARNING)

        compiler = shell.compile
        assert isinstance(compiler, _Compiler)
        compiler.filename = self.note_path
        self.namer = ipython.configure_shell(shell, fonts=[Path(f) for f in self.request["fonts"]])
        return shell

    def run_cell(self, shell: NoteShell, cell: dict[str, Any]) -> dict[str, Any]:
        shell.recorder = _Recorder(cell["output_limit"])
        shell.reported = []
        sys.stdout = _StreamCapture(shell.recorder, "stdout")
        sys.stderr = _StreamCapture(shell.recorder, "stderr")
        compiler = shell.compile
        assert isinstance(compiler, _Compiler)
        compiler.line_offset = int(cell["line"])
        self.namer.reset(f"{self.request['figure_prefix']}-c{cell['number']}")

        recorded: list[dict[str, Any]] = []
        error: BaseException | None = None
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = _warning_recorder(shell, recorded)
            signal.setitimer(signal.ITIMER_REAL, float(cell["timeout"]))
            try:
                result = shell.run_cell(  # type: ignore[no-untyped-call]
                    cell["source"], store_history=True
                )
                error = result.error_before_exec or result.error_in_exec
            except CellTimeout as exc:
                error = exc
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            self.collect_fd_output(shell)

        errors = [error] if error is not None else []
        errors += [exc for exc in shell.reported if all(exc is not seen for seen in errors)]
        if shell.exit_now:
            errors.append(SystemExit("exit() or quit() called in a cell"))
            shell.exit_now = False

        details = [self.describe_error(exc, cell) for exc in errors]
        for detail in details:
            shell.recorder.outputs.append({"output_type": "error", **detail})
        expected = cell["raises"]
        stop = any(
            detail["timeout"] or not matches_declared(detail["mro"], expected) for detail in details
        )
        return {
            "number": cell["number"],
            "outputs": shell.recorder.finish(),
            "errors": details,
            "warnings": recorded,
            "blocked_writes": self.guard.take_blocked(),
            "stop": stop,
        }

    def collect_fd_output(self, shell: NoteShell) -> None:
        """Append output written straight to file descriptors 1 and 2 (C code, subprocesses).

        Once the cell's text reached its limit, the rest of a capture file is
        counted, not read.
        """
        recorder = shell.recorder
        for name, (reader, _) in self.captured_fds.items():
            decoder = self.decoders[name]
            while recorder.marker is None and (chunk := os.read(reader, 1 << 16)):
                recorder.stream(name, decoder.decode(chunk))
            position = os.lseek(reader, 0, os.SEEK_CUR)
            end = os.lseek(reader, 0, os.SEEK_END)
            recorder.count_dropped(end - position)

    def describe_error(self, error: BaseException, cell: dict[str, Any]) -> dict[str, Any]:
        exception = traceback.TracebackException.from_exception(error)
        frames = list(exception.stack)
        note_frames = [i for i, frame in enumerate(frames) if frame.filename == self.note_path]
        # From the first note frame on, without the engine's own frames (the timeout handler,
        # the write guard): they carry no information about the note.
        shown = frames[note_frames[0] :] if note_frames else []
        shown = [frame for frame in shown if not frame.filename.startswith(_ENGINE_DIR)]
        exception.stack = traceback.StackSummary.from_list(shown)
        # The line in the running cell that led to the error, else the innermost note line.
        note_lines = [f.lineno for f in exception.stack if f.filename == self.note_path]
        in_cell = [n for n in note_lines if n and cell["line"] < n < cell["end_line"]]
        line = None
        if in_cell:
            line = in_cell[-1]
        elif note_lines:
            line = note_lines[-1]
        if isinstance(error, SyntaxError) and error.filename == self.note_path:
            line = error.lineno
        cls = type(error)
        return {
            "type": cls.__qualname__,
            "mro": class_names(cls),
            "message": self.shorten_paths(str(error)),
            "exception_only": self.shorten_paths("".join(exception.format_exception_only())),
            "traceback": self.format_traceback(exception),
            "line": line,
            "timeout": isinstance(error, CellTimeout),
            "blocked_write": isinstance(error, RepositoryWriteError),
            "fix": import_fix(error, self.root),
        }

    def format_traceback(self, exception: traceback.TracebackException) -> str:
        """Format a traceback with frames as ``path:line, in function``, causes first."""
        parts: list[str] = []
        if exception.__cause__ is not None:
            parts.append(self.format_traceback(exception.__cause__))
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        elif exception.__context__ is not None and not exception.__suppress_context__:
            parts.append(self.format_traceback(exception.__context__))
            parts.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if exception.stack:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(self.format_frame(frame) for frame in exception.stack)
        parts.append(self.shorten_paths("".join(exception.format_exception_only())))
        return "".join(parts)

    def format_frame(self, frame: traceback.FrameSummary) -> str:
        cell = ""
        if frame.filename == self.note_path:
            number = _cell_at(self.cells, frame.lineno or 0)
            cell = f" (cell {number})" if number is not None else ""
        text = f"  {self.shorten_paths(frame.filename)}:{frame.lineno}{cell}, in {frame.name}\n"
        if frame.line:
            text += f"    {frame.line.strip()}\n"
        return text

    def shorten_paths(self, text: str) -> str:
        """Write the note and other files inside the root by their path relative to the root."""
        return text.replace(self.note_path, self.shown_path).replace(self.root, "")


def _warning_recorder(shell: NoteShell, recorded: list[dict[str, Any]]) -> Any:
    modules: dict[str, str] = {}

    def record(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if str(message).startswith(_IPYTHON_EXIT_HINT):
            return  # IPython's hint after SystemExit, which is reported as an error
        module = getattr(message, "logger", None) or _module_of(filename, modules)
        recorded.append(
            {
                "category": category.__qualname__,
                "mro": class_names(category),
                "message": str(message),
                "filename": filename,
                "lineno": lineno,
                "module": module,
            }
        )
        shell.recorder.outputs.append({"output_type": "warning", "index": len(recorded) - 1})

    return record


def _module_of(filename: str, cache: dict[str, str]) -> str:
    """Return the name of the loaded module whose file is `filename`, or ``__main__``."""
    if not cache:
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                cache[path] = name
    return cache.get(filename, "__main__")


def _cell_at(cells: list[dict[str, Any]], line: int) -> int | None:
    for cell in cells:
        if cell["line"] < line <= cell["end_line"]:
            return int(cell["number"])
    return None


def read_request(conn: socket.socket) -> Message | None:
    """Return the request message the runner sends first, or None if it closed the connection."""
    buffer = b""
    while b"\n" not in buffer:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return None
        buffer += chunk
    message = json.loads(buffer.partition(b"\n")[0].decode("utf-8"))
    return message if isinstance(message, dict) else None


def child_main(conn: socket.socket) -> int:
    """Run the note or the examples requested on `conn`; return the process exit status."""
    request = read_request(conn)
    if request is None:
        return 1
    if request.get("kind") == "examples":
        from noteexec._doctest_kernel import run_examples

        run_examples(conn, request)
    else:
        _Kernel(conn, request).run()
    return 0

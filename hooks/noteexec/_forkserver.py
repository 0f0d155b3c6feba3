"""The forkserver: a single-threaded process that forks one process per note or example block.

Started by `NoteRunner` as ``python -P -m noteexec._forkserver SOCKET [FONT ...]``
with a clean environment (fixed PYTHONHASHSEED, one BLAS thread, the Agg
backend). It imports numpy, matplotlib and IPython once, so a note's process
starts in milliseconds, and never imports actlib or anything of a note, so
each note imports the current actlib. It prints ``ready`` on stdout once it
listens on the Unix socket SOCKET.

For each connection it forks a note process (its own process group, killed
if the forkserver dies), keeps its end of the connection, and when the note
process exits sends ``exit`` with the status on that connection. It is also
the subreaper of everything the notes start. It stops when its stdin reaches
end of file (the runner closed it or died) or on SIGTERM, and then kills the
process groups of the notes still running and every process the notes left
behind in other groups.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import selectors
import signal
import socket
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType

from noteexec._protocol import send_message

# Linux prctl(2) options.
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    """Call prctl(2) where it exists (Linux); elsewhere do nothing."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(option, value, 0, 0, 0)


def warm_up(fonts: list[Path]) -> None:
    """Import what every note uses and draw one figure, so that forked notes start warm.

    The figure is drawn with the notes' style in a temporary rc context: the
    global matplotlib state stays at its defaults.
    """
    import matplotlib.pyplot
    import matplotlib.style
    import matplotlib_inline.backend_inline  # noqa: F401 - imported for the forked notes
    import numpy  # noqa: F401 - imported for the forked notes
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401
    from matplotlib.figure import Figure

    import noteexec._doctest_kernel
    import noteexec._kernel
    import noteexec.ipython  # noqa: F401 - imported for the forked notes
    from noteexec._figures import STYLE_PATH, register_fonts

    register_fonts(fonts)
    with matplotlib.style.context(STYLE_PATH):
        figure = Figure()
        axes = figure.add_subplot()
        axes.plot([0, 1], [0, 1], label="激活函数 \u22121")
        axes.set_title("$\\sigma(x)$")
        axes.legend()
        figure.savefig(io.BytesIO(), format="svg")


class _Server:
    def __init__(self, socket_path: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(socket_path)
        self.listener.listen(64)
        self.children: dict[int, socket.socket] = {}
        self.stopping = False
        self.selector = selectors.DefaultSelector()
        self.wakeup_read, self.wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(self.wakeup_write, False)

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wakeup_write)
        signal.signal(signal.SIGCHLD, _ignore_signal)
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(0, selectors.EVENT_READ, "stdin")
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, "signal")

        while not self.stopping:
            for key, _ in self.selector.select():
                if key.data == "accept":
                    self.accept()
                elif key.data == "stdin" and not os.read(0, 4096):
                    self.stopping = True
                elif key.data == "signal":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self.wakeup_read, 4096)
            self.reap()
        self.shutdown()

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def accept(self) -> None:
        conn, _ = self.listener.accept()
        pid = os.fork()
        if pid == 0:
            self.become_note_process(conn)
        # Both sides set the process group, so that a kill right after the
        # fork already reaches it.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        self.children[pid] = conn

    def become_note_process(self, conn: socket.socket) -> None:
        status = 1
        try:
            server_pid = os.getppid()
            os.setpgid(0, 0)
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != server_pid:
                os._exit(1)
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            self.selector.close()
            self.listener.close()
            os.close(self.wakeup_read)
            os.close(self.wakeup_write)
            for other in self.children.values():
                other.close()

            from noteexec._kernel import child_main

            status = child_main(conn)
        except BaseException:
            # A failure of the engine itself, not of the note's code.
            with contextlib.suppress(BaseException):
                send_message(conn, {"event": "crashed", "traceback": traceback.format_exc()})
        finally:
            # os._exit skips atexit handlers and the join of threads a note started.
            os._exit(status)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue  # an orphan the notes started; reaped as subreaper
            # Kill what the note left running in its process group. The group id
            # cannot have been reused while members remain.
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                conn.sendall(b"\n")
                send_message(
                    conn, {"event": "exit", "pid": pid, "status": os.waitstatus_to_exitcode(status)}
                )
            conn.close()

    def shutdown(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        while self.children:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            conn = self.children.pop(pid, None)
            if conn is not None:
                conn.close()
        self.kill_orphans()
        self.listener.close()

    def kill_orphans(self) -> None:
        """Kill and reap the processes that notes left behind in another process group.

        As subreaper, the forkserver inherits them when their parent exits
        (e.g. a daemon started with ``start_new_session=True``). Killing one
        may orphan its own children, so repeat until none is left.
        """
        for _ in range(100):
            orphans = _children_of(os.getpid())
            if not orphans:
                return
            for pid in orphans:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            for pid in orphans:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)


def _children_of(parent: int) -> list[int]:
    """Return the ids of the processes whose parent is `parent`, from /proc (Linux)."""
    children = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue  # the process exited meanwhile
        if int(fields[1]) == parent:
            children.append(int(entry))
    return children


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    """Handler whose only effect is to wake the select loop through the wakeup fd."""


def main(argv: list[str]) -> int:
    """Run the forkserver; see the module docstring for the arguments."""
    socket_path, *fonts = argv
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    warm_up([Path(font) for font in fonts])
    if threading.active_count() != 1:
        print(
            f"forkserver: {threading.active_count()} threads after importing numpy, "
            "matplotlib and IPython; forking would copy locks held by the other threads",
            file=sys.stderr,
        )
        return 2
    server = _Server(socket_path)
    print("ready", flush=True)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

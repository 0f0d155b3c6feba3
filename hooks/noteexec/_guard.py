"""Block writes into the repository from a note or example process.

Runs in the forked process only. An audit hook (``sys.addaudithook``)
receives the events of these file operations made by Python code: ``open()``
and ``os.open`` with a mode or flags that write, ``os.rename``/``os.replace``,
``os.remove``, ``os.mkdir``, ``os.rmdir``, ``shutil.rmtree``, ``os.truncate``,
``os.chmod``, ``os.chown``, ``os.utime``, ``os.link`` and ``os.symlink``. When the target
is inside the repository root and outside the writable folders (the cache
folder, the site folder when it is inside the root, and every
``__pycache__`` folder, where Python writes bytecode), the hook raises
`RepositoryWriteError` before the operation happens and records it with the
note line that led to it. Reading is never blocked, so data next to a note
opens as in Jupyter.

NOTE: the hook sees only what Python code does. A subprocess
(``os.system("touch x")``) or C code that opens files itself is not
blocked. A check of ``git status`` before and after the run would catch
those but could not tell them from an author saving a file meanwhile.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_BYTECODE_FOLDER = "__pycache__"

# Audit event → (operation as shown in messages, indices of the path arguments,
# index of the dir_fd argument that relative paths are resolved against).
_EVENTS: dict[str, tuple[str, tuple[int, ...], int | None]] = {
    "open": ("open for writing", (0,), None),
    "os.rename": ("rename", (0, 1), None),
    "os.remove": ("delete", (0,), 1),
    "os.rmdir": ("delete the folder", (0,), 1),
    "os.mkdir": ("create the folder", (0,), 2),
    "shutil.rmtree": ("delete the folder tree", (0,), 1),
    "os.truncate": ("truncate", (0,), None),
    "os.chmod": ("change the mode of", (0,), 2),
    "os.chown": ("change the owner of", (0,), 3),
    "os.utime": ("change the times of", (0,), 3),
    "os.link": ("create the hard link", (1,), 3),
    "os.symlink": ("create the symbolic link", (1,), 2),
}


class RepositoryWriteError(PermissionError):
    """A note or example tried to change a file inside the repository; the change was blocked."""


class WriteGuard:
    """Audit hook that blocks writes inside `root` outside the `writable` folders.

    Attributes
    ----------
    blocked
        One entry per blocked operation, oldest first: ``path`` (relative to
        the root), ``operation`` and ``line`` (the innermost line of the note
        file `note_path` on the stack, or None).
    """

    def __init__(self, root: str, writable: Sequence[str], note_path: str | None) -> None:
        self.roots = _prefixes([root])
        self.writable = _prefixes(writable)
        self.note_path = note_path
        self.blocked: list[dict[str, Any]] = []
        self._local = threading.local()

    @classmethod
    def start(cls, root: str, writable: Sequence[str], note_path: str | None) -> WriteGuard:
        """Create a guard and install its audit hook (which stays for the life of the process)."""
        guard = cls(root, writable, note_path)
        sys.addaudithook(guard.audit)
        return guard

    def take_blocked(self) -> list[dict[str, Any]]:
        """Return the operations blocked since the last call, and forget them."""
        blocked, self.blocked = self.blocked, []
        return blocked

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        spec = _EVENTS.get(event)
        if spec is None or getattr(self._local, "busy", False):
            return
        if event == "open" and not _writes(args[1], args[2]):
            return
        operation, path_indices, dir_fd_index = spec
        self._local.busy = True
        try:
            dir_fd = args[dir_fd_index] if dir_fd_index is not None else None
            for index in path_indices:
                relative = self.protected(args[index], dir_fd)
                if relative is not None:
                    self.block(operation, relative)
        finally:
            self._local.busy = False

    def protected(self, path: object, dir_fd: object) -> str | None:
        """Return `path` relative to the root if writing it must be blocked, else None."""
        if not isinstance(path, str | bytes | os.PathLike):
            return None  # a file descriptor, already checked when it was opened
        name = os.fsdecode(path)
        base = os.getcwd()
        if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(name):
            try:
                base = os.readlink(f"/proc/self/fd/{dir_fd}")
            except OSError:
                return None  # NOTE: no /proc (not Linux): dir_fd-relative names are not checked
        joined = os.path.join(base, name)
        # The path as written (a link itself) and the path it resolves to (a link's target).
        for candidate in {os.path.abspath(joined), os.path.realpath(joined)}:
            relative = self.relative_if_protected(candidate)
            if relative is not None:
                return relative
        return None

    def relative_if_protected(self, absolute: str) -> str | None:
        inside = [root for root in self.roots if (absolute + os.sep).startswith(root)]
        if not inside:
            return None
        if any((absolute + os.sep).startswith(folder) for folder in self.writable):
            return None
        relative = absolute[len(inside[0]) :] or "."
        if _BYTECODE_FOLDER in relative.split(os.sep):
            return None
        return relative.replace(os.sep, "/")

    def block(self, operation: str, relative: str) -> None:
        self.blocked.append({"path": relative, "operation": operation, "line": self.note_line()})
        raise RepositoryWriteError(
            f"{relative}: a note must not change files in the repository ({operation} blocked); "
            "write to a temporary folder (tempfile.TemporaryDirectory()) or keep the data in memory"
        )

    def note_line(self) -> int | None:
        """Return the innermost line of the note file on the current stack, or None."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.note_path:
                return frame.f_lineno
            frame = frame.f_back
        return None


def _writes(mode: object, flags: object) -> bool:
    """Return whether an ``open`` audit event opens the file for writing."""
    if isinstance(mode, str):
        return any(char in mode for char in "wax+")
    if isinstance(flags, int):
        return bool(flags & _WRITE_FLAGS)
    return False


def _prefixes(folders: Sequence[str]) -> tuple[str, ...]:
    """Return each folder as written and resolved, with a trailing separator."""
    found = set()
    for folder in folders:
        for form in (os.path.abspath(folder), os.path.realpath(folder)):
            found.add(os.path.join(form, ""))
    return tuple(sorted(found))

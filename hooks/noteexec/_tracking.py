"""Record which files of the repository a note or example process reads, for the cache.

Runs in the forked process only. An audit hook (``sys.addaudithook``)
receives every ``open`` event (``open()``, ``os.open``, and ``io.open_code`` of
the import system). It hashes each file inside the repository the first time
the process opens it for reading, so the hash is that of the content read. A
compiled module (``__pycache__/*.pyc``) counts as its ``.py`` source. After
the run, modules in ``sys.modules`` with a file in the repository that no
``open`` reported (extension modules) are added, and the top-level names of
all loaded modules are reported so that the runner can record the versions of
their distributions.

Not tracked: files of the virtual environment and of site-packages (their
distribution versions are), the engine's own package (its source hash is part
of every cache key), and files outside the repository.
NOTE: a note that lists a folder (glob, os.listdir) depends on the files it
then opens, not on the listing: a new file in the folder does not invalidate it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import site
import stat
import sys
import threading
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


class DependencyTracker:
    """Hashes of the repository files this process read, by path relative to the root."""

    def __init__(self, root: str) -> None:
        self.root = os.path.join(os.path.abspath(root), "")
        engine = os.path.dirname(os.path.abspath(__file__))
        prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix, engine, *site.getsitepackages()}
        self.excluded = tuple(os.path.join(os.path.abspath(p), "") for p in sorted(prefixes))
        self.files: dict[str, str | None] = {}
        self.complete = True
        self._local = threading.local()

    @classmethod
    def start(cls, root: str) -> DependencyTracker:
        """Create a tracker and install its audit hook (which stays for the life of the process)."""
        tracker = cls(root)
        sys.addaudithook(tracker.audit)
        return tracker

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or getattr(self._local, "busy", False):
            return
        self._local.busy = True
        try:
            path, mode, flags = args
            if isinstance(path, str | bytes | os.PathLike) and _reads(mode, flags):
                self.record(os.fsdecode(path))
        except Exception:
            # An audit hook must not break the note's open(); the result is
            # just not cached.
            self.complete = False
        finally:
            self._local.busy = False

    def record(self, path: str) -> None:
        """Hash `path` if it is a repository file not seen before."""
        absolute = os.path.abspath(path)
        if f"{os.sep}__pycache__{os.sep}" in absolute:
            try:
                source = importlib.util.source_from_cache(absolute)
            except ValueError:
                source = None
            if source is not None and os.path.exists(source):
                absolute = source
        if not absolute.startswith(self.root) or absolute.startswith(self.excluded):
            return
        relative = Path(absolute[len(self.root) :]).as_posix()
        if relative not in self.files:
            self.files[relative] = hash_file(absolute)

    def report(self) -> dict[str, Any]:
        """Return the files read, the top-level names of loaded modules, and `complete`."""
        self._local.busy = True
        try:
            for module in list(sys.modules.values()):
                path = getattr(module, "__file__", None)
                if isinstance(path, str):
                    self.record(path)
        finally:
            self._local.busy = False
        top_level = sorted({name.partition(".")[0] for name in list(sys.modules)})
        return {
            "files": dict(sorted(self.files.items())),
            "modules": top_level,
            "complete": self.complete,
        }


def hash_file(path: str | Path) -> str | None:
    """Return the SHA-256 of a regular file's content, or None for a missing or special file."""
    digest = hashlib.sha256()
    try:
        # Opening a FIFO would block until a writer appears.
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _reads(mode: object, flags: object) -> bool:
    """Return whether an ``open`` audit event opens the file for reading."""
    if isinstance(mode, str):
        return "r" in mode or "+" in mode
    if isinstance(flags, int):
        return flags & os.O_ACCMODE in (os.O_RDONLY, os.O_RDWR)
    return True

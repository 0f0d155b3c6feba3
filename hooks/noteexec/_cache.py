"""On-disk cache of passing results, so that an unchanged note or module is not run again.

One JSON file per note (``.cache/notes/note/<path>.json``) and per module whose
docstring examples run (``.cache/notes/examples/<path>.json``). An entry is used
only when all of these are unchanged:

- the text of the note or module;
- the engine's source (every file of the ``noteexec`` package);
- Python (implementation and ``sys.version``);
- the settings that shape results (timeout, memory and output limits, seed,
  allowed warnings, font paths) and the content of the font files;
- every repository file the run read (``actlib/*.py``, a module or a data file
  next to the note), by SHA-256, as the note process recorded it while reading
  (see `noteexec._tracking`);
- the version of every installed distribution whose modules the run loaded.

Only passing results are stored: a failed, timed-out or interrupted run is
never cached, and `NoteCache.remove` deletes the entry of a note that fails a
check after its run (``hooks/notes.py`` does so for a formula lost on the
page). Entries are written atomically (a temporary file in the same folder,
then ``os.replace``). A corrupt or truncated entry is logged as a warning
naming its file, deleted and rewritten after the next passing run.
``extra.notes.cache: false`` or ``NOTEEXEC_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noteexec._errors import OptionsError
from noteexec._options import ExecutionOptions
from noteexec._parse import display_path
from noteexec._tracking import hash_file

CACHE_DIR = Path(".cache") / "notes"
"""Folder of the cache, relative to the runner root."""

ENVIRONMENT_VARIABLE = "NOTEEXEC_CACHE"
"""Set to 0 to turn the cache off (1 or unset: on)."""

_FORMAT = 1
"""Version of the entry layout; entries of another version are not used."""

_ENGINE_DIR = Path(__file__).resolve().parent
_ENGINE_SUFFIXES = (".py", ".mplstyle")
_SWITCH_VALUES = {"0": False, "false": False, "no": False, "off": False}
_SWITCH_VALUES.update({"1": True, "true": True, "yes": True, "on": True})

Logger = logging.Logger | logging.LoggerAdapter[Any]


@dataclass(frozen=True)
class Dependencies:
    """Inputs of a run: the repository files it read, with hashes, and the modules it loaded.

    Attributes
    ----------
    files
        Path relative to the root → SHA-256 of the content read, or None for a
        file that could not be read (e.g. missing).
    modules
        Top-level names of the modules loaded (``numpy``, ``actlib``...).
    """

    files: Mapping[str, str | None]
    modules: frozenset[str]

    @classmethod
    def merge(cls, reports: Iterable[Mapping[str, Any] | None]) -> Dependencies | None:
        """Combine the reports of a unit's processes; None when one is missing or incomplete.

        Two processes that read different contents of one file (it changed
        during the build) also give None: the result is not cached.
        """
        files: dict[str, str | None] = {}
        modules: set[str] = set()
        for report in reports:
            if report is None or not report.get("complete"):
                return None
            for path, digest in report["files"].items():
                if files.setdefault(path, digest) != digest:
                    return None
            modules.update(report["modules"])
        return cls(files=files, modules=frozenset(modules))


def open_cache(
    root: Path, options: ExecutionOptions, *, logger: Logger | None = None
) -> NoteCache | None:
    """Return the cache in `CACHE_DIR` under `root`, or None when it is turned off.

    Raises
    ------
    OptionsError
        If ``NOTEEXEC_CACHE`` has an invalid value.
    """
    if not cache_enabled(options):
        return None
    return NoteCache(root / CACHE_DIR, root=root, options=options, logger=logger)


def cache_enabled(options: ExecutionOptions) -> bool:
    """Return whether the cache is on: ``options.cache`` and ``NOTEEXEC_CACHE`` not 0.

    Raises
    ------
    OptionsError
        If ``NOTEEXEC_CACHE`` is set to something other than 0/1 (or false/true, no/yes, off/on).
    """
    value = os.environ.get(ENVIRONMENT_VARIABLE)
    if value is None or not value.strip():
        return options.cache
    switch = _SWITCH_VALUES.get(value.strip().lower())
    if switch is None:
        raise OptionsError(
            f"environment variable {ENVIRONMENT_VARIABLE}={value!r} is invalid; "
            "set it to 0 to turn the note cache off, or 1 (or unset it) to turn it on"
        )
    return options.cache and switch


class NoteCache:
    """Entries of passing results under `directory`, validated against the current inputs.

    Parameters
    ----------
    directory
        Folder of the entries, created on the first write.
    root
        Repository root: dependency paths are relative to it.
    options
        Options of the run; the ones that shape results are part of every key.
    logger
        Where hits and misses (debug, with the reason) and bad entries (warning) go.
    versions
        Installed distribution versions by normalised name; read from
        ``importlib.metadata`` when None (tests pass their own).
    """

    def __init__(
        self,
        directory: Path,
        *,
        root: Path,
        options: ExecutionOptions,
        logger: Logger | None = None,
        versions: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.root = root.resolve()
        self.log: Logger = logger or logging.getLogger(__name__)
        self.versions = dict(versions) if versions is not None else installed_versions()
        self._distributions: Mapping[str, list[str]] | None = None
        self._hashes: dict[str, tuple[tuple[int, int, int], str | None]] = {}
        self._lock = threading.Lock()
        fonts = {display_path(font, self.root): hash_file(font) for font in options.fonts}
        self.inputs: dict[str, Any] = {
            "engine": engine_digest(),
            "python": f"{platform.python_implementation()} {sys.version}",
            "settings": result_settings(options, self.root),
            "fonts": fonts,
        }

    def entry_path(self, kind: str, path: str) -> Path:
        """Return the entry file of the note or module at `path` (relative to the root)."""
        if Path(path).is_absolute():
            path = "outside-root/" + hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]
        return self.directory / kind / f"{path}.json"

    def lookup(self, kind: str, path: str, text: str) -> str | None:
        """Return the stored result of `path` when every input is unchanged, else None."""
        entry_file = self.entry_path(kind, path)
        entry = self._read(entry_file, path)
        reason = "no cache entry" if entry is None else self._stale(entry, kind, path, text)
        if reason is not None:
            self.log.debug("%s: cache miss: %s", path, reason)
            return None
        assert entry is not None
        self.log.debug("%s: from the cache", path)
        return str(entry["result"])

    def store(
        self, kind: str, path: str, text: str, result: str, dependencies: Dependencies
    ) -> None:
        """Write the passing `result` of `path` with the inputs it was computed from."""
        entry = {
            "format": _FORMAT,
            "kind": kind,
            "path": path,
            "source": _sha256(text),
            **self.inputs,
            "files": dict(sorted(dependencies.files.items())),
            "distributions": self._distributions_of(dependencies.modules),
            "result": result,
        }
        entry_file = self.entry_path(kind, path)
        try:
            _write_atomic(entry_file, json.dumps(entry, ensure_ascii=False, indent=1))
        except OSError as exc:
            self.log.warning(
                "cannot write the cache entry %s: %s; %s will run again in the next build",
                entry_file,
                exc,
                path,
            )

    def remove(self, kind: str, path: str) -> None:
        """Delete the entry of `path`, e.g. for a note that ran cleanly but failed a later check."""
        entry_file = self.entry_path(kind, path)
        try:
            entry_file.unlink(missing_ok=True)
        except OSError as exc:
            self.log.warning("cannot delete the cache entry %s: %s", entry_file, exc)
        else:
            self.log.debug("%s: cache entry removed", path)

    def _read(self, entry_file: Path, path: str) -> dict[str, Any] | None:
        try:
            text = entry_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._discard(entry_file, path, f"unreadable: {exc}")
            return None
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as exc:
            self._discard(entry_file, path, f"invalid JSON: {exc}")
            return None
        problem = _schema_problem(entry)
        if problem is not None:
            self._discard(entry_file, path, problem)
            return None
        assert isinstance(entry, dict)
        return entry

    def _discard(self, entry_file: Path, path: str, cause: str) -> None:
        self.log.warning(
            "corrupt cache entry %s (%s): ignored and deleted; %s runs again and the entry "
            "is rewritten when it passes",
            entry_file,
            cause,
            path,
        )
        entry_file.unlink(missing_ok=True)

    def _stale(self, entry: Mapping[str, Any], kind: str, path: str, text: str) -> str | None:
        """Return why `entry` cannot be used, or None when it can."""
        if entry["format"] != _FORMAT or entry["kind"] != kind or entry["path"] != path:
            return "the entry was written by another version of the engine"
        if entry["source"] != _sha256(text):
            return f"{path} changed"
        if entry["engine"] != self.inputs["engine"]:
            return f"the note engine changed ({display_path(_ENGINE_DIR, self.root)})"
        if entry["python"] != self.inputs["python"]:
            return f"Python changed ({entry['python']} → {self.inputs['python']})"
        if entry["settings"] != self.inputs["settings"]:
            keys = sorted(
                key
                for key in {*entry["settings"], *self.inputs["settings"]}
                if entry["settings"].get(key) != self.inputs["settings"].get(key)
            )
            return f"extra.notes settings changed: {', '.join(keys)}"
        for font, digest in self.inputs["fonts"].items():
            if entry["fonts"].get(font) != digest:
                return f"font file {font} changed"
        for file, digest in entry["files"].items():
            current = self.file_hash(file)
            if current != digest:
                if current is None:
                    return f"{file} was deleted"
                return f"{file} was created" if digest is None else f"{file} changed"
        for name, version in entry["distributions"].items():
            installed = self.versions.get(name)
            if installed is None:
                return f"{name} {version} is no longer installed"
            if installed != version:
                return f"{name} changed ({version} → {installed})"
        return None

    def file_hash(self, relative: str) -> str | None:
        """Return the SHA-256 of a repository file now, or None when it cannot be read."""
        path = self.root / relative
        try:
            stat = path.stat()
        except OSError:
            return None
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with self._lock:
            known = self._hashes.get(relative)
        if known is not None and known[0] == signature:
            return known[1]
        digest = hash_file(path)
        with self._lock:
            self._hashes[relative] = (signature, digest)
        return digest

    def _distributions_of(self, modules: Iterable[str]) -> dict[str, str]:
        """Return the installed distributions that provide `modules`, with their versions."""
        with self._lock:
            if self._distributions is None:
                self._distributions = importlib.metadata.packages_distributions()
            providers = self._distributions
        found = {}
        for module in modules:
            for distribution in providers.get(module, []):
                name = normalise_name(distribution)
                if name in self.versions:
                    found[name] = self.versions[name]
        return dict(sorted(found.items()))


def installed_versions() -> dict[str, str]:
    """Return the version of every installed distribution, by normalised name."""
    versions: dict[str, str] = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            # The first one found on sys.path is the one imported.
            versions.setdefault(normalise_name(name), distribution.version)
    return versions


def normalise_name(name: str) -> str:
    """Return a distribution name normalised as in PEP 503 (``Foo_Bar`` → ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def engine_digest() -> str:
    """Return a SHA-256 over the engine's source files (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(_ENGINE_DIR.iterdir()):
        if path.suffix in _ENGINE_SUFFIXES and path.is_file():
            digest.update(path.name.encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def result_settings(options: ExecutionOptions, root: Path) -> dict[str, Any]:
    """Return the options that can change a result; jobs and the cache switch cannot."""
    return {
        "timeout": options.timeout,
        "memory_limit": options.memory_limit,
        "output_limit": options.output_limit,
        "seed": options.seed,
        "allowed_warnings": [warning.to_dict() for warning in options.allowed_warnings],
        "fonts": [display_path(font, root) for font in options.fonts],
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_ENTRY_TYPES: dict[str, type | tuple[type, ...]] = {
    "format": int,
    "kind": str,
    "path": str,
    "source": str,
    "engine": str,
    "python": str,
    "settings": dict,
    "fonts": dict,
    "files": dict,
    "distributions": dict,
    "result": str,
}


def _schema_problem(entry: object) -> str | None:
    """Return what is wrong with the shape of a decoded entry, or None."""
    if not isinstance(entry, dict):
        return f"expected a JSON object, got {type(entry).__name__}"
    for key, expected in _ENTRY_TYPES.items():
        if not isinstance(entry.get(key), expected):
            return f"missing or invalid {key!r}"
    if not all(isinstance(v, str | None) for v in entry["files"].values()):
        return "invalid 'files'"
    if not all(isinstance(v, str) for v in entry["distributions"].values()):
        return "invalid 'distributions'"
    return None


def _write_atomic(target: Path, text: str) -> None:
    """Write `text` to `target` so that readers see the old or the new file, never a part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

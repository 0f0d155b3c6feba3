"""Execution options shared by every note of a run, and their validation."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noteexec._errors import OptionsError

DEFAULT_TIMEOUT = 60.0
"""Per-cell timeout in seconds when neither the note nor the cell sets one."""

DEFAULT_MEMORY_LIMIT = 4 * 1024**3
"""Address-space limit (RLIMIT_AS) of a note's process in bytes: 4 GiB."""

DEFAULT_OUTPUT_LIMIT = 128 * 1024
"""Bytes of text output (UTF-8) a cell shows on the page before the rest is cut: 128 KiB.

About 1600 lines of 80 characters: far more than a reader scrolls through, and
small next to the figures of a page.
"""

_SIZE_UNITS = {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
_SIZE_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB)\s*$")


@dataclass(frozen=True)
class AllowedWarning:
    """A third-party warning that notes may emit without declaring it.

    Attributes
    ----------
    category
        Warning class name, bare (``DeprecationWarning``) or qualified
        (``numpy.exceptions.VisibleDeprecationWarning``); subclasses match.
    reason
        Why the warning is harmless; required so that every allowance is justified.
    message
        Regular expression matched (``re.search``) against the warning text.
    module
        Regular expression matched (``re.match``) against the module that
        emitted the warning, e.g. ``matplotlib\\.``.
    """

    category: str
    reason: str
    message: str = ""
    module: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return a JSON-serialisable dict."""
        return {
            "category": self.category,
            "reason": self.reason,
            "message": self.message,
            "module": self.module,
        }


@dataclass(frozen=True)
class ExecutionOptions:
    """Options for one run of notes.

    Attributes
    ----------
    timeout
        Default per-cell timeout in seconds; a note's ``execute.timeout`` and a
        cell's ``timeout=`` option override it.
    jobs
        Number of notes executed at the same time; None means ``os.cpu_count()``.
    fonts
        Font files registered with matplotlib in every note, e.g. the Noto Sans
        SC file that draws Chinese labels.
    allowed_warnings
        Third-party warnings that do not fail a note.
    memory_limit
        Default address-space limit of a note's process in bytes; None for no limit.
    output_limit
        Default number of bytes of text (stdout, stderr and plain-text results,
        UTF-8) a cell shows on the page; the rest is cut and replaced by a
        notice. None for no limit. A note's ``execute.output_limit`` and a
        cell's ``output_limit=`` option override it.
    writable
        Folders inside the root that notes may write to, besides ``.cache/``
        and ``__pycache__`` folders, e.g. the site folder.
    seed
        Seed of ``random`` and of NumPy's global generator in every note.
    deadline_grace
        Seconds a cell may run past its timeout before the runner kills the
        note's process group; the in-process timeout normally fires first.
    cache
        Whether results of notes and modules that passed are cached on disk
        (``.cache/notes/``); the environment variable ``NOTEEXEC_CACHE=0`` also
        turns the cache off.
    doctests
        Glob patterns, relative to the root, of the Python files whose
        docstring examples run at build time, e.g. ``actlib/*.py``.
    """

    timeout: float = DEFAULT_TIMEOUT
    jobs: int | None = None
    fonts: tuple[Path, ...] = ()
    allowed_warnings: tuple[AllowedWarning, ...] = ()
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT
    output_limit: int | None = DEFAULT_OUTPUT_LIMIT
    writable: tuple[Path, ...] = ()
    seed: int = 0
    deadline_grace: float = 5.0
    cache: bool = True
    doctests: tuple[str, ...] = ()

    @property
    def job_count(self) -> int:
        """Return the number of notes run in parallel."""
        return self.jobs if self.jobs is not None else (os.cpu_count() or 1)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base_dir: Path) -> ExecutionOptions:
        """Build options from a plain mapping, e.g. ``extra.notes`` of mkdocs.yml.

        Relative font paths are resolved against `base_dir`.

        Raises
        ------
        OptionsError
            If a key is unknown or a value is invalid; the message names the key.
        """
        valid = {
            "timeout",
            "jobs",
            "fonts",
            "allowed_warnings",
            "memory_limit",
            "output_limit",
            "cache",
            "doctests",
        }
        unknown = sorted(set(data) - valid)
        if unknown:
            raise OptionsError(
                f"unknown option {unknown[0]!r}; valid options: {', '.join(sorted(valid))}"
            )

        kwargs: dict[str, Any] = {}
        if "timeout" in data:
            kwargs["timeout"] = parse_timeout(data["timeout"], key="timeout")
        if "jobs" in data and data["jobs"] is not None:
            kwargs["jobs"] = _parse_jobs(data["jobs"])
        if "fonts" in data:
            kwargs["fonts"] = _parse_fonts(data["fonts"], base_dir)
        if "allowed_warnings" in data:
            kwargs["allowed_warnings"] = _parse_allowed_warnings(data["allowed_warnings"])
        if "memory_limit" in data:
            kwargs["memory_limit"] = parse_size(data["memory_limit"], key="memory_limit")
        if "output_limit" in data:
            kwargs["output_limit"] = parse_size(data["output_limit"], key="output_limit")
        if "cache" in data:
            kwargs["cache"] = _parse_cache(data["cache"])
        if "doctests" in data:
            kwargs["doctests"] = _parse_doctests(data["doctests"])
        return cls(**kwargs)


def parse_timeout(value: object, *, key: str) -> float:
    """Return a positive timeout in seconds, or raise OptionsError naming `key`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise OptionsError(f"{key}: expected a positive number of seconds, got {value!r}")
    return float(value)


def parse_size(value: object, *, key: str) -> int | None:
    """Return a size in bytes from ``"512 KiB"``/``"4 GiB"``, or None for ``"unlimited"``."""
    if value == "unlimited":
        return None
    match = _SIZE_PATTERN.match(value) if isinstance(value, str) else None
    if match is None:
        raise OptionsError(
            f"{key}: expected a size such as '512 MiB' or '4 GiB', or 'unlimited', got {value!r}"
        )
    size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
    if size <= 0:
        raise OptionsError(f"{key}: expected a positive size, got {value!r}")
    return size


def format_size(size: int) -> str:
    """Return `size` in bytes as the options write it: ``"128 KiB"``, ``"9.5 MiB"``, ``"12 B"``."""
    for unit in ("GiB", "MiB", "KiB"):
        scale = _SIZE_UNITS[unit]
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} B"


def _parse_jobs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionsError(f"jobs: expected a positive integer, got {value!r}")
    return value


def _parse_cache(value: object) -> bool:
    if not isinstance(value, bool):
        raise OptionsError(f"cache: expected true or false, got {value!r}")
    return value


def _parse_doctests(value: object) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise OptionsError(
            f"doctests: expected a list of glob patterns such as 'actlib/*.py', got {value!r}"
        )
    patterns = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise OptionsError(f"doctests[{index}]: expected a glob pattern, got {item!r}")
        if Path(item).is_absolute() or ".." in Path(item).parts:
            raise OptionsError(
                f"doctests[{index}]: {item!r} must be relative to the folder of mkdocs.yml "
                "and stay inside it"
            )
        patterns.append(item)
    return tuple(patterns)


def _parse_fonts(value: object, base_dir: Path) -> tuple[Path, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise OptionsError(f"fonts: expected a list of font file paths, got {value!r}")
    fonts = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise OptionsError(f"fonts[{index}]: expected a path, got {item!r}")
        path = (base_dir / item).resolve()
        if not path.is_file():
            raise OptionsError(
                f"fonts[{index}]: font file {item!r} not found (resolved to {path}); "
                "run `npm ci` to install the font packages"
            )
        fonts.append(path)
    return tuple(fonts)


def _parse_allowed_warnings(value: object) -> tuple[AllowedWarning, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise OptionsError(f"allowed_warnings: expected a list of mappings, got {value!r}")
    return tuple(_parse_allowed_warning(item, index) for index, item in enumerate(value))


def _parse_allowed_warning(item: object, index: int) -> AllowedWarning:
    key = f"allowed_warnings[{index}]"
    valid = {"category", "message", "module", "reason"}
    if not isinstance(item, Mapping):
        raise OptionsError(f"{key}: expected a mapping with keys {sorted(valid)}, got {item!r}")
    unknown = sorted(set(item) - valid)
    if unknown:
        raise OptionsError(f"{key}: unknown key {unknown[0]!r}; valid keys: {sorted(valid)}")

    for required in ("category", "reason"):
        text = item.get(required)
        if not isinstance(text, str) or not text.strip():
            raise OptionsError(
                f"{key}: {required!r} is required and must be a non-empty string, got {text!r}"
            )
    for pattern_key in ("message", "module"):
        pattern = item.get(pattern_key, "")
        if not isinstance(pattern, str):
            raise OptionsError(f"{key}.{pattern_key}: expected a regular expression string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise OptionsError(
                f"{key}.{pattern_key}: invalid regular expression {pattern!r}: {exc}"
            ) from exc
    return AllowedWarning(
        category=item["category"],
        reason=item["reason"],
        message=item.get("message", ""),
        module=item.get("module", ""),
    )

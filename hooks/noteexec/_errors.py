"""Build errors reported for a note, and the exceptions the engine raises."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any


class ErrorKind(enum.StrEnum):
    """Kind of failure; each kind fails the build."""

    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    WORKER_DIED = "worker-died"
    WARNING = "warning"
    MISSING_EXCEPTION = "missing-exception"
    MISSING_WARNING = "missing-warning"
    FRONT_MATTER = "front-matter"
    FENCE = "fence"
    CELL_OPTION = "cell-option"
    FIGURE_ALT = "figure-alt"
    NONDETERMINISTIC_OUTPUT = "nondeterministic-output"
    MATH = "math"
    EXAMPLE = "example"
    REPOSITORY_WRITE = "repository-write"
    ENCODING = "encoding"


@dataclass(frozen=True)
class NoteError:
    """One failure in a note or in a module's docstring examples, located by path, line and cell.

    Attributes
    ----------
    path
        Path of the note (or module) relative to the runner root, with ``/`` separators.
    line
        1-based line in the ``.md`` (or ``.py``) file, or None when the failure has no line.
    cell
        1-based number of the code cell among the note's ``python`` cells, or None.
    kind
        What failed.
    message
        One-line summary.
    traceback
        Detail on the lines after the summary: a traceback whose frames in the
        note read ``notebooks/x.md:LINE``, or a list of warnings; may be empty.
    fix
        What the author should do.
    """

    path: str
    line: int | None
    cell: int | None
    kind: ErrorKind
    message: str
    traceback: str
    fix: str

    @property
    def location(self) -> str:
        """Return ``path:line``, or the path alone when the line is unknown."""
        return self.path if self.line is None else f"{self.path}:{self.line}"

    def __str__(self) -> str:
        parts = [f"{self.location}: {self.message}"]
        if self.traceback:
            parts.append(self.traceback.rstrip("\n"))
        parts.append(f"Fix: {self.fix}")
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict; `from_dict` reverses it."""
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NoteError:
        """Rebuild an error from `to_dict` output."""
        return cls(**{**data, "kind": ErrorKind(data["kind"])})


class OptionsError(ValueError):
    """Invalid execution options: the message names the key and the valid values."""


class ForkserverError(RuntimeError):
    """The forkserver process failed to start."""


class LoggedWarning(UserWarning):
    """A log record of level WARNING or above, emitted while a cell ran.

    Note processes turn such records into this warning, so that the warning
    rules apply to them: matplotlib, for one, logs a glyph missing from a math
    font instead of warning.
    """

    def __init__(self, message: str, logger: str) -> None:
        super().__init__(message)
        self.logger = logger

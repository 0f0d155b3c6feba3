"""Facts of a note's execution (`NoteRun`) and the outcome handed to the caller (`NoteResult`).

`build_result` is a pure function of the parsed note, the run and the options.
`NoteResult` round-trips through JSON, so a cache can store results.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from noteexec._errors import ErrorKind, NoteError
from noteexec._frontmatter import FrontMatter
from noteexec._math import Formula
from noteexec._options import AllowedWarning, format_size
from noteexec._parse import CodeCell, Note
from noteexec._protocol import matches_declared
from noteexec._render import figure_count, render_markdown

_MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{4,}\b")
_FAULTHANDLER_FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line (?P<line>\d+) in (?P<name>.*)$')


@dataclass(frozen=True)
class NoteResult:
    """The outcome of one note.

    Attributes
    ----------
    path
        Note path relative to the runner root.
    markdown
        The page's Markdown: a YAML header with the page metadata, the prose,
        the code and the outputs; outputs stop at the first failing cell.
    errors
        Every failure; empty when the note passed.
    front_matter
        Validated front matter, or None when it is invalid.
    formulas
        Every formula in the note's prose, for the check of the rendered page.
    notices
        What the author should know but that does not fail the build, e.g.
        ``notebooks/x.md:12: cell 3 printed 9.5 MiB of text; the page shows
        the first 128 KiB``.
    """

    path: str
    markdown: str
    errors: tuple[NoteError, ...]
    front_matter: FrontMatter | None
    formulas: tuple[Formula, ...]
    notices: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Return whether the note passed."""
        return not self.errors

    def to_json(self) -> str:
        """Serialise the result; `from_json` reverses it."""
        data = {
            "path": self.path,
            "markdown": self.markdown,
            "errors": [error.to_dict() for error in self.errors],
            "front_matter": self.front_matter.to_dict() if self.front_matter else None,
            "formulas": [[f.line, f.tex, f.display] for f in self.formulas],
            "notices": list(self.notices),
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NoteResult:
        """Rebuild a result from `to_json` output."""
        data = json.loads(text)
        front_matter = data["front_matter"]
        return cls(
            path=data["path"],
            markdown=data["markdown"],
            errors=tuple(NoteError.from_dict(item) for item in data["errors"]),
            front_matter=FrontMatter.from_dict(front_matter) if front_matter else None,
            formulas=tuple(Formula(line, tex, display) for line, tex, display in data["formulas"]),
            notices=tuple(data["notices"]),
        )


@dataclass
class NoteRun:
    """Facts about one execution of a note, gathered by the runner.

    Attributes
    ----------
    records
        One record per cell that ran, from the note process.
    timeouts
        Timeout in seconds of each cell, by cell number.
    running_cell
        Cell that was running when the process ended early, if any.
    status
        Exit status of the note process (negative: killed by that signal).
    killed_cell
        Cell the runner killed because it ran past its deadline, if any.
    stack
        What faulthandler wrote on a crash or on the runner's request before a kill.
    finished
        Whether the note process reported that all cells ran.
    lost
        Why the runner lost track of the note process, if it did.
    dependencies
        What the process read and loaded (see `noteexec._tracking`), reported
        when it finished; None otherwise.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    timeouts: dict[int, float] = field(default_factory=dict)
    running_cell: int | None = None
    status: int | None = None
    killed_cell: int | None = None
    stack: str = ""
    finished: bool = False
    lost: str | None = None
    dependencies: dict[str, Any] | None = None

    @property
    def clean(self) -> bool:
        """Return whether the process reported all its work and exited with status 0."""
        return self.finished and self.status == 0 and self.lost is None


def build_result(
    note: Note,
    run: NoteRun | None,
    allowed_warnings: Sequence[AllowedWarning],
    *,
    memory_limit: int | None = None,
) -> NoteResult:
    """Turn a parsed note and its run (None when it was not run) into a `NoteResult`.

    `memory_limit` is the address-space limit the note ran under, in bytes
    (None: no limit), for the messages about running out of memory.
    """
    records = {int(record["number"]): record for record in run.records} if run else {}
    checker = _Checker(note, allowed_warnings, run.timeouts if run else {}, memory_limit)
    errors = list(note.errors)
    notices = []
    for cell in note.cells:
        record = records.get(cell.number)
        if record is not None:
            errors.extend(checker.check_cell(cell, record))
            notices.extend(checker.truncation_notices(cell, record))
    if run is not None:
        errors.extend(checker.check_process(run))

    return NoteResult(
        path=note.path,
        markdown=render_markdown(note, records, checker.shows_warning),
        errors=tuple(errors),
        front_matter=note.front_matter,
        formulas=note.formulas,
        notices=tuple(notices),
    )


class _Checker:
    """Apply the rules that decide whether a cell's record passes."""

    def __init__(
        self,
        note: Note,
        allowed_warnings: Sequence[AllowedWarning],
        timeouts: Mapping[int, float],
        memory_limit: int | None,
    ) -> None:
        self.note = note
        self.timeouts = timeouts
        self.memory_limit = memory_limit
        self.allowed_warnings = allowed_warnings
        self.cells = {cell.number: cell for cell in note.cells}

    def error(
        self,
        cell: CodeCell | None,
        kind: ErrorKind,
        message: str,
        fix: str,
        *,
        line: int | None = None,
        traceback: str = "",
    ) -> NoteError:
        if line is None and cell is not None:
            line = cell.line
        number = cell.number if cell is not None else None
        return NoteError(self.note.path, line, number, kind, message, traceback, fix)

    def check_cell(self, cell: CodeCell, record: Mapping[str, Any]) -> list[NoteError]:
        errors = [self.check_exception(cell, detail) for detail in record["errors"]]
        found = [e for e in errors if e is not None]
        if cell.options.raises and not record["errors"]:
            found.append(
                self.error(
                    cell,
                    ErrorKind.MISSING_EXCEPTION,
                    f"cell {cell.number} declares raises={_names(cell.options.raises)} "
                    "but raised no such exception",
                    "make the cell raise it, or remove raises= from the fence",
                )
            )
        found.extend(self.check_writes(cell, record.get("blocked_writes", [])))
        found.extend(self.check_warnings(cell, record["warnings"]))
        found.extend(self.check_figures(cell, record))
        found.extend(self.check_determinism(cell, record))
        return found

    def check_writes(self, cell: CodeCell, blocked: Sequence[Mapping[str, Any]]) -> list[NoteError]:
        """Report every write into the repository that was blocked, also those the cell caught."""
        return [
            self.error(
                cell,
                ErrorKind.REPOSITORY_WRITE,
                f"cell {cell.number} tried to change {write['path']} in the repository "
                f"({write['operation']}); the change was blocked",
                "a note must leave the repository as it found it: keep the data in memory, or "
                "write it to a temporary folder (tempfile.TemporaryDirectory()); inside the "
                "repository only .cache/, the site folder and __pycache__ folders are writable",
                line=write["line"],
            )
            for write in blocked
        ]

    def truncation_notices(self, cell: CodeCell, record: Mapping[str, Any]) -> list[str]:
        """Return a notice for a cell whose text output was cut at its limit."""
        return [
            f"{self.note.path}:{cell.line}: cell {cell.number} printed "
            f"{format_size(output['shown'] + output['dropped'])} of text; the page shows the "
            f"first {format_size(output['shown'])}. Print less, or raise the limit with "
            'output_limit="1 MiB" on the fence or execute.output_limit in the front matter.'
            for output in record["outputs"]
            if output["output_type"] == "truncated"
        ]

    def check_exception(self, cell: CodeCell, detail: Mapping[str, Any]) -> NoteError | None:
        line = detail["line"] or cell.line
        if detail["timeout"]:
            return self.error(
                cell,
                ErrorKind.TIMEOUT,
                f"cell {cell.number} timed out after {self.timeout_text(cell)}",
                f"make the cell faster, or allow more time with timeout=SECONDS on the fence "
                f"at line {cell.line} or execute.timeout in the front matter",
                line=line,
                traceback=detail["traceback"],
            )
        if detail.get("blocked_write") or matches_declared(detail["mro"], cell.options.raises):
            return None  # a blocked write is reported by check_writes
        if cell.options.raises:
            message = (
                f"cell {cell.number} raised {detail['type']} but declares "
                f"raises={_names(cell.options.raises)}"
            )
        elif "builtins.MemoryError" in detail["mro"]:
            message = (
                f"cell {cell.number} ran out of memory ({self.memory_text()}): "
                f"{detail['type']}: {detail['message']}"
            )
        else:
            message = f"cell {cell.number} raised {detail['type']}: {detail['message']}"
        if detail.get("fix"):
            fix = str(detail["fix"])
        elif "builtins.SyntaxError" in detail["mro"] and not cell.options.raises:
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            fix = f"correct the syntax at line {line}; the cells run as Python {version}"
        elif "builtins.SystemExit" in detail["mro"] and not cell.options.raises:
            fix = "a note must not end its own process: remove the exit() or sys.exit() call"
        elif "builtins.MemoryError" in detail["mro"]:
            fix = (
                "use less memory (smaller or float32 arrays, work in chunks), or raise the "
                'limit with execute.memory_limit in the front matter, e.g. memory_limit: "8 GiB"'
            )
        else:
            fix = (
                "fix the code; if the page should show this exception, declare it with "
                f'raises="{_public_name(detail["mro"])}" on the fence at line {cell.line}'
            )
        return self.error(
            cell,
            ErrorKind.EXCEPTION,
            message,
            fix,
            line=line,
            traceback=detail["traceback"],
        )

    def memory_text(self) -> str:
        if self.memory_limit is None:
            return "the note runs without a memory limit"
        return f"the note's memory limit is {format_size(self.memory_limit)}, set as RLIMIT_AS"

    def check_warnings(
        self, cell: CodeCell, warnings: Sequence[Mapping[str, Any]]
    ) -> list[NoteError]:
        errors = []
        undeclared = [
            w
            for w in warnings
            if not matches_declared(w["mro"], cell.options.warns) and not self.is_allowed(w)
        ]
        if undeclared:
            first_line = next(
                (w["lineno"] for w in undeclared if w["filename"] == str(self.note.abs_path)),
                cell.line,
            )
            # Repeats (a warning in a loop) are listed once, with their count.
            counts: dict[str, int] = {}
            for w in undeclared:
                entry = f"  {self.location(w)}: {w['category']}: {w['message']}"
                counts[entry] = counts.get(entry, 0) + 1
            listing = "\n".join(
                entry if count == 1 else f"{entry} (x{count})" for entry, count in counts.items()
            )
            categories = sorted({w["category"] for w in undeclared})
            errors.append(
                self.error(
                    cell,
                    ErrorKind.WARNING,
                    f"cell {cell.number} emitted {len(undeclared)} undeclared "
                    f"warning{'s' if len(undeclared) > 1 else ''}",
                    "fix the cause; if the page should show the warning, declare it with "
                    f"warns={_names(categories)} on the fence at line {cell.line}; allow a "
                    "third-party warning in extra.notes.allowed_warnings of mkdocs.yml, "
                    "with the reason",
                    line=first_line,
                    traceback=listing,
                )
            )
        for declared in cell.options.warns:
            if not any(matches_declared(w["mro"], [declared]) for w in warnings):
                errors.append(
                    self.error(
                        cell,
                        ErrorKind.MISSING_WARNING,
                        f'cell {cell.number} declares warns="{declared}" '
                        "but emitted no such warning",
                        "make the cell emit it, or remove it from warns= on the fence",
                    )
                )
        return errors

    def check_figures(self, cell: CodeCell, record: Mapping[str, Any]) -> list[NoteError]:
        figures = figure_count(record)
        alts = len(cell.options.alt)
        if figures == alts or cell.options.hide_output:
            return []
        if figures > alts:
            message = f"cell {cell.number} draws {figures} figure(s) but has alt text for {alts}"
        else:
            message = f"cell {cell.number} has alt text for {alts} figure(s) but draws {figures}"
        return [
            self.error(
                cell,
                ErrorKind.FIGURE_ALT,
                message,
                'describe each figure on the fence: alt="…" for one figure, '
                'alt=["…", "…"] for several, in the order they are shown',
            )
        ]

    def check_determinism(self, cell: CodeCell, record: Mapping[str, Any]) -> list[NoteError]:
        if cell.options.hide_output:
            return []
        for output in record["outputs"]:
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            shown_as_text = output["output_type"] == "stream" or (
                "data" in output and set(output["data"]) <= {"text/plain"}
            )
            match = _MEMORY_ADDRESS.search(text) if shown_as_text else None
            if match is not None:
                return [
                    self.error(
                        cell,
                        ErrorKind.NONDETERMINISTIC_OUTPUT,
                        f"cell {cell.number} shows a memory address ({match.group()}), "
                        "which changes on every build",
                        "end the last line with `;` or assign it to a name, or print a "
                        "stable representation",
                    )
                ]
        return []

    def check_process(self, run: NoteRun) -> list[NoteError]:
        if run.lost is not None:
            return [
                self.error(
                    self.cells.get(run.running_cell or 0),
                    ErrorKind.WORKER_DIED,
                    f"lost the note process: {run.lost}",
                    "run the build again; if it persists, report it with the log",
                )
            ]
        if run.finished and run.status == 0:
            return []

        cell = self.cells.get(run.killed_cell or run.running_cell or 0)
        stack, stack_line = self.map_stack(run.stack)
        where = f"cell {cell.number}" if cell is not None else "start-up"
        if run.killed_cell is not None and cell is not None:
            return [
                self.error(
                    cell,
                    ErrorKind.TIMEOUT,
                    f"cell {cell.number} timed out after {self.timeout_text(cell)} and "
                    "was killed (it did not respond, e.g. a long loop in C code)",
                    f"make the cell faster, or allow more time with timeout=SECONDS on the "
                    f"fence at line {cell.line} or execute.timeout in the front matter",
                    line=stack_line,
                    traceback=stack,
                )
            ]
        status = run.status
        if status is not None and status < 0:
            try:
                cause = f"was killed by signal {signal.Signals(-status).name}"
            except ValueError:
                cause = f"was killed by signal {-status}"
        elif status is not None:
            cause = f"exited with status {status}"
        else:
            cause = "ended without an exit status"
        return [
            self.error(
                cell,
                ErrorKind.WORKER_DIED,
                f"the note process {cause} while running {where}",
                "look for os._exit(), a crash in C code or a memory limit hit in this cell "
                f"({self.memory_text()}); raise the limit with execute.memory_limit in the "
                "front matter",
                line=stack_line,
                traceback=stack,
            )
        ]

    def map_stack(self, dump: str) -> tuple[str, int | None]:
        """Rewrite a faulthandler dump with note frames as ``path:line (cell N)``.

        Returns the text and the innermost line in the note.
        """
        lines = []
        note_line = None
        for raw in dump.splitlines():
            frame = _FAULTHANDLER_FRAME.match(raw)
            if frame is None:
                lines.append(raw)
                continue
            lineno = int(frame["line"])
            if frame["file"] == str(self.note.abs_path):
                cell = _cell_at(self.note.cells, lineno)
                suffix = f" (cell {cell.number})" if cell is not None else ""
                lines.append(f"  {self.note.path}:{lineno}{suffix}, in {frame['name']}")
                note_line = lineno if note_line is None else note_line
            else:
                lines.append(f"  {frame['file']}:{lineno}, in {frame['name']}")
        return "\n".join(lines), note_line

    def is_allowed(self, warning: Mapping[str, Any]) -> bool:
        return any(
            matches_declared(warning["mro"], [allowed.category])
            and re.search(allowed.message, warning["message"]) is not None
            and re.match(allowed.module, warning["module"]) is not None
            for allowed in self.allowed_warnings
        )

    def shows_warning(self, cell: CodeCell, warning: Mapping[str, Any]) -> bool:
        """Show declared and undeclared warnings on the page; hide allowed ones."""
        return matches_declared(warning["mro"], cell.options.warns) or not self.is_allowed(warning)

    def timeout_text(self, cell: CodeCell) -> str:
        timeout = self.timeouts.get(cell.number)
        return f"{timeout:g} s" if timeout is not None else "its timeout"

    def location(self, warning: Mapping[str, Any]) -> str:
        if warning["filename"] == str(self.note.abs_path):
            return f"{self.note.path}:{warning['lineno']}"
        return f"{warning['filename']}:{warning['lineno']}"


def _cell_at(cells: Sequence[CodeCell], line: int) -> CodeCell | None:
    return next((cell for cell in cells if cell.line < line < cell.end_line), None)


def _public_name(mro: Sequence[str]) -> str:
    """Return the bare name of the first public class in `mro`, e.g. MemoryError for numpy's."""
    for qualified in mro:
        name = qualified.rsplit(".", 1)[-1]
        if not name.startswith("_"):
            return name
    return mro[0].rsplit(".", 1)[-1]


def _names(names: Sequence[str]) -> str:
    if len(names) == 1:
        return f'"{names[0]}"'
    return "[" + ", ".join(f'"{name}"' for name in names) + "]"

"""Units of work: a note, or the examples of one file, split into process jobs.

A unit is what one cache entry stores. A note unit has one job for its cells
and one per ```` ```pycon ```` fence; an example unit (``run_examples``) has
one job per fence or docstring. The runner forks a process per job, in
parallel across all units, then each unit turns its jobs' runs into a result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noteexec._cache import CACHE_DIR, Dependencies, NoteCache
from noteexec._errors import ErrorKind, NoteError
from noteexec._examples import (
    ExampleBlock,
    ExampleResult,
    block_errors,
    import_base,
    module_blocks,
    module_name,
)
from noteexec._options import ExecutionOptions
from noteexec._parse import (
    CodeCell,
    Note,
    display_path,
    parse_note,
    read_source,
    unreadable_note,
)
from noteexec._result import NoteResult, NoteRun, build_result


@dataclass
class Job:
    """One process to fork: a note's cells or one block of examples.

    Attributes
    ----------
    request
        The message sent to the process, without ``stack_path`` (the runner adds it).
    timeouts
        Timeout in seconds of each numbered step (a cell, or 1 for a block of examples).
    run
        What happened, once the runner ran the job.
    """

    request: dict[str, Any]
    timeouts: dict[int, float]
    run: NoteRun | None = None


@dataclass
class Unit:
    """A note or a file of examples, with its cached result or the jobs that compute it."""

    kind: str
    path: Path
    shown: str
    text: str
    cached: str | None = None
    jobs: list[Job] = field(default_factory=list)

    def dependencies(self) -> Dependencies | None:
        """Return what the jobs read, or None when one of them did not finish cleanly."""
        runs = [job.run for job in self.jobs]
        if any(run is None or not run.clean for run in runs):
            return None
        return Dependencies.merge(run.dependencies for run in runs if run is not None)

    def store(self, cache: NoteCache | None, result: str, ok: bool) -> None:
        """Store a passing result; failed, timed-out or interrupted runs are never stored."""
        if cache is None or not ok:
            return
        dependencies = self.dependencies()
        if dependencies is not None:
            cache.store(self.kind, self.shown, self.text, result, dependencies)


@dataclass
class NoteUnit(Unit):
    """A note: its cells and its examples."""

    note: Note | None = None
    cell_job: Job | None = None
    blocks: tuple[ExampleBlock, ...] = ()

    def finish(self, options: ExecutionOptions, cache: NoteCache | None) -> NoteResult:
        """Return the note's result, from the cache or from its jobs, and store it if it passed."""
        if self.cached is not None:
            return NoteResult.from_json(self.cached)
        assert self.note is not None
        run = self.cell_job.run if self.cell_job is not None else None
        limit = memory_limit(self.note, options.memory_limit)
        result = build_result(self.note, run, options.allowed_warnings, memory_limit=limit)
        example_jobs = self.jobs[1:] if self.cell_job is not None else []
        errors = list(result.errors)
        for block, job in zip(self.blocks, example_jobs, strict=True):
            errors.extend(job_errors(block, job))
        result = dataclasses.replace(result, errors=tuple(errors))
        self.store(cache, result.to_json(), result.ok)
        return result


@dataclass
class ExampleUnit(Unit):
    """The examples of a note (its ```` ```pycon ```` fences) or of a module (its docstrings)."""

    blocks: tuple[ExampleBlock, ...] = ()
    errors: tuple[NoteError, ...] = ()

    def finish(self, cache: NoteCache | None) -> ExampleResult:
        """Return the result, from the cache or from the jobs, and store it if it passed."""
        if self.cached is not None:
            return ExampleResult.from_json(self.cached)
        errors = list(self.errors)
        attempted = 0
        for block, job in zip(self.blocks, self.jobs, strict=True):
            errors.extend(job_errors(block, job))
            record = _record(job)
            attempted += int(record["attempted"]) if record is not None else 0
        result = ExampleResult(self.shown, tuple(errors), attempted)
        self.store(cache, result.to_json(), result.ok)
        return result


def plan_note(
    path: Path, *, root: Path, options: ExecutionOptions, cache: NoteCache | None
) -> NoteUnit:
    """Return the unit of the note at `path`: its cached result, or the jobs to run."""
    shown = display_path(path, root)
    text = read_source(path, shown)
    if isinstance(text, NoteError):
        unit = NoteUnit(kind="note", path=path, shown=shown, text="")
        unit.note = unreadable_note(path.resolve(), shown, text)
        return unit
    unit = NoteUnit(kind="note", path=path, shown=shown, text=text)
    unit.cached = cache.lookup(unit.kind, shown, text) if cache is not None else None
    if unit.cached is not None:
        return unit

    note = parse_note(path, root=root, text=text)
    unit.note = note
    if note.errors:
        return unit
    request = note_request(note, root, options)
    unit.cell_job = Job(request, {cell["number"]: cell["timeout"] for cell in request["cells"]})
    unit.blocks = note.examples
    places = (note.abs_path.parent, note.abs_path.parent)
    limits = (note_timeout(note, options.timeout), memory_limit(note, options.memory_limit))
    unit.jobs = [unit.cell_job]
    unit.jobs += [block_job(b, note.abs_path, places, root, options, limits) for b in unit.blocks]
    return unit


def plan_examples(
    path: Path, *, root: Path, options: ExecutionOptions, cache: NoteCache | None
) -> ExampleUnit:
    """Return the unit of the examples of the note or module at `path`."""
    shown = display_path(path, root)
    text = read_source(path, shown)
    if isinstance(text, NoteError):
        return ExampleUnit(kind="examples", path=path, shown=shown, text="", errors=(text,))
    unit = ExampleUnit(kind="examples", path=path, shown=shown, text=text)
    unit.cached = cache.lookup(unit.kind, shown, text) if cache is not None else None
    if unit.cached is not None:
        return unit

    abs_path = path.resolve()
    limits = (options.timeout, options.memory_limit)
    if path.suffix == ".py":
        # As in a `python` session started at the root, with the package importable.
        blocks, errors = module_blocks(shown, text, name=module_name(abs_path))
        places = (root, import_base(abs_path))
    else:
        note = parse_note(path, root=root, text=text)
        blocks = list(note.examples)
        errors = [error for error in note.errors if error.kind is ErrorKind.EXAMPLE]
        places = (abs_path.parent, abs_path.parent)
        limits = (note_timeout(note, options.timeout), memory_limit(note, options.memory_limit))
    unit.blocks = tuple(blocks)
    unit.errors = tuple(errors)
    unit.jobs = [block_job(b, abs_path, places, root, options, limits) for b in blocks]
    return unit


def cell_timeout(note: Note, cell: CodeCell, default: float) -> float:
    """Return a cell's timeout: its own option, else the note's, else `default`."""
    if cell.options.timeout is not None:
        return cell.options.timeout
    return note_timeout(note, default)


def note_timeout(note: Note, default: float) -> float:
    """Return the note's ``execute.timeout``, else `default`."""
    if note.front_matter is not None and note.front_matter.execute.timeout is not None:
        return note.front_matter.execute.timeout
    return default


def output_limit(note: Note, cell: CodeCell, default: int | None) -> int | None:
    """Return a cell's text output limit in bytes: its own option, else the note's, else `default`.

    None means no limit.
    """
    limit = cell.options.output_limit
    if limit is None and note.front_matter is not None:
        limit = note.front_matter.execute.output_limit
    if limit == "unlimited":
        return None
    return default if limit is None else limit


def writable_folders(root: Path, options: ExecutionOptions) -> list[str]:
    """Return the folders inside `root` that a note process may write to.

    Those are the cache folder and `options.writable`; `__pycache__` folders
    are always writable (see `noteexec._guard`).
    """
    return [str(root / CACHE_DIR), *(str(folder) for folder in options.writable)]


def memory_limit(note: Note, default: int | None) -> int | None:
    """Return the note's address-space limit in bytes, or None for no limit."""
    limit = note.front_matter.execute.memory_limit if note.front_matter else None
    if limit == "unlimited":
        return None
    return default if limit is None else limit


def note_request(note: Note, root: Path, options: ExecutionOptions) -> dict[str, Any]:
    """Return the request that runs the cells of `note`."""
    cells = [
        {
            "number": cell.number,
            "line": cell.line,
            "end_line": cell.end_line,
            "source": cell.source,
            "timeout": cell_timeout(note, cell, options.timeout),
            "raises": list(cell.options.raises),
            "output_limit": output_limit(note, cell, options.output_limit),
        }
        for cell in note.cells
    ]
    digest = hashlib.sha256(note.path.encode("utf-8")).hexdigest()[:8]
    return {
        "kind": "note",
        "path": str(note.abs_path),
        "display_path": note.path,
        "root": str(root),
        "workdir": str(note.abs_path.parent),
        "import_path": str(note.abs_path.parent),
        "cells": cells,
        "seed": options.seed,
        "memory_limit": memory_limit(note, options.memory_limit),
        "writable": writable_folders(root, options),
        "fonts": [str(font) for font in options.fonts],
        "figure_prefix": f"fig-{digest}",
    }


def block_job(
    block: ExampleBlock,
    abs_path: Path,
    places: tuple[Path, Path],
    root: Path,
    options: ExecutionOptions,
    limits: tuple[float, int | None],
) -> Job:
    """Return the job that runs one block of examples in a fresh process.

    `places` are the working folder and the folder put first on ``sys.path``;
    `limits` the timeout in seconds and the address-space limit in bytes (None: none).
    """
    workdir, import_path = places
    timeout, address_space = limits
    request = {
        "kind": "examples",
        "path": str(abs_path),
        "display_path": block.path,
        "root": str(root),
        "workdir": str(workdir),
        "import_path": str(import_path),
        "name": block.name,
        "text": block.text,
        "lineno": block.lineno,
        "timeout": timeout,
        "seed": options.seed,
        "memory_limit": address_space,
        "writable": writable_folders(root, options),
    }
    return Job(request, {1: timeout})


def job_errors(block: ExampleBlock, job: Job) -> list[NoteError]:
    """Return the errors of one block's job: failed examples, a timeout, a dead process."""
    run = job.run
    record = _record(job)
    if run is None or run.clean:
        return block_errors(block, record, None)
    if run.lost is not None:
        problem = f"was lost: {run.lost}"
    elif run.killed_cell is not None:
        problem = f"ran past its timeout of {job.timeouts[1]:g} s and was killed"
    elif run.status is not None and run.status < 0:
        try:
            problem = f"was killed by signal {signal.Signals(-run.status).name}"
        except ValueError:
            problem = f"was killed by signal {-run.status}"
    elif run.status is not None:
        problem = f"exited with status {run.status}"
    else:
        problem = "ended without an exit status"
    errors = block_errors(block, record, None) if record is not None else []
    died = block_errors(block, None, problem)
    if run.stack:
        died = [dataclasses.replace(error, traceback=run.stack) for error in died]
    return errors + died


def _record(job: Job) -> dict[str, Any] | None:
    if job.run is None or not job.run.records:
        return None
    return job.run.records[0]

"""The YAML front matter of a note: schema and validation.

Checked keys: ``title`` (required), ``date``, ``categories``, ``tags``,
``description`` and ``execute`` (note-level execution options). Hexo's keys and
jupytext's ``jupyter`` key are accepted and ignored, so that blog posts move in
unchanged; any other key is an error. jupytext keeps every key other than
``jupyter`` in a raw cell at the top of the notebook and writes it back on save,
so a round trip through Jupyter keeps the front matter.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from noteexec._errors import ErrorKind, NoteError, OptionsError
from noteexec._options import parse_size, parse_timeout

CHECKED_KEYS = ("title", "date", "categories", "tags", "description", "execute")
IGNORED_KEYS = (
    # jupytext's notebook metadata (kernelspec, format version).
    "jupyter",
    # Hexo's own front matter keys, and keys common Hexo themes read.
    "updated",
    "comments",
    "permalink",
    "excerpt",
    "layout",
    "disableNunjucks",
    "lang",
    "published",
    "mathjax",
    "toc",
    "top",
    "sticky",
    "cover",
    "thumbnail",
    "keywords",
)
EXECUTE_KEYS = ("timeout", "memory_limit", "output_limit")

_FIX_HEADER = "start the note with a header such as\n---\ntitle: Sigmoid 函数\n---"
_FIX_CLOSE = "end the header with a line `---` before the note's text"
_FIX_YAML = (
    "fix the YAML syntax: close every bracket and quote, and quote a value that contains "
    "': ' or starts with [, {, *, &, ! or |"
)
_FIX_KEYS = (
    f"use only the keys {', '.join(CHECKED_KEYS)} (checked) or "
    f"{', '.join(IGNORED_KEYS)} (accepted and ignored)"
)


@dataclass(frozen=True)
class ExecuteOptions:
    """Note-level execution options from the ``execute`` key.

    Attributes
    ----------
    timeout
        Per-cell timeout in seconds for this note; None keeps the run's default.
    memory_limit
        Address-space limit in bytes, ``"unlimited"``, or None for the run's default.
    output_limit
        Bytes of text output each cell shows, ``"unlimited"``, or None for the
        run's default.
    """

    timeout: float | None = None
    memory_limit: int | Literal["unlimited"] | None = None
    output_limit: int | Literal["unlimited"] | None = None


@dataclass(frozen=True)
class FrontMatter:
    """Validated front matter of a note."""

    title: str
    date: datetime.date | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str | None = None
    execute: ExecuteOptions = field(default_factory=ExecuteOptions)

    def page_meta(self) -> dict[str, Any]:
        """Return the keys a page generator reads (title, date, ...), JSON-serialisable."""
        meta: dict[str, Any] = {"title": self.title}
        if self.date is not None:
            meta["date"] = self.date.isoformat()
        if self.categories:
            meta["categories"] = list(self.categories)
        if self.tags:
            meta["tags"] = list(self.tags)
        if self.description is not None:
            meta["description"] = self.description
        return meta

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict; `from_dict` reverses it."""
        return {
            **self.page_meta(),
            "execute": {
                "timeout": self.execute.timeout,
                "memory_limit": self.execute.memory_limit,
                "output_limit": self.execute.output_limit,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrontMatter:
        """Rebuild front matter from `to_dict` output."""
        date = data.get("date")
        if isinstance(date, str):
            date = (
                datetime.datetime.fromisoformat(date)
                if "T" in date
                else datetime.date.fromisoformat(date)
            )
        return cls(
            title=data["title"],
            date=date,
            categories=tuple(data.get("categories", ())),
            tags=tuple(data.get("tags", ())),
            description=data.get("description"),
            execute=ExecuteOptions(**data.get("execute", {})),
        )


@dataclass(frozen=True)
class FrontMatterBlock:
    """Position and content of the front matter in the file."""

    front_matter: FrontMatter | None
    end_line: int
    """0-based index of the first line after the closing ``---`` (0 without a header)."""
    errors: tuple[NoteError, ...]


def read_front_matter(lines: Sequence[str], path: str) -> FrontMatterBlock:
    """Parse and validate the YAML header at the top of `lines`."""
    end = _header_end(lines)
    if end is None:
        if not any(line.strip() for line in lines):
            message = "the note is empty"
        elif lines[0].rstrip() == "---":
            message = "the YAML front matter opened at line 1 is never closed"
            return FrontMatterBlock(None, 0, (_error(path, 1, message, _FIX_CLOSE),))
        else:
            message = "missing YAML front matter"
        return FrontMatterBlock(None, 0, (_error(path, 1, message, _FIX_HEADER),))

    text = "".join(lines[1 : end - 1])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + mark.line if mark is not None else 1
        summary = _yaml_problem(exc)
        error = _error(path, line, f"invalid YAML in front matter: {summary}", _FIX_YAML)
        return FrontMatterBlock(None, end, (error,))

    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        error = _error(path, 1, "front matter is not a mapping of keys to values", _FIX_KEYS)
        return FrontMatterBlock(None, end, (error,))

    key_lines = {
        key_node.value: 2 + key_node.start_mark.line
        for key_node, _ in node.value
        if isinstance(key_node, yaml.ScalarNode)
    }
    checker = _Checker(path, key_lines)
    front_matter = checker.check(data)
    return FrontMatterBlock(front_matter, end, tuple(checker.errors))


def _header_end(lines: Sequence[str]) -> int | None:
    """Return the index after the closing delimiter, or None without a header."""
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return index + 1
    return None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Return PyYAML's description of the problem with note line numbers.

    The context (e.g. "while parsing a flow sequence") names the line where
    the unfinished construct starts, which is usually the line to fix.
    """
    problem = getattr(exc, "problem", None)
    if not isinstance(problem, str):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if not isinstance(context, str):
        return problem
    if context_mark is not None:
        context += f" that starts at line {2 + context_mark.line}"
    return f"{problem} ({context})"


def _error(path: str, line: int, message: str, fix: str) -> NoteError:
    return NoteError(path, line, None, ErrorKind.FRONT_MATTER, message, "", fix)


class _Checker:
    """Validate the parsed YAML mapping, collecting every error."""

    def __init__(self, path: str, key_lines: dict[str, int]) -> None:
        self.path = path
        self.key_lines = key_lines
        self.errors: list[NoteError] = []

    def fail(self, key: str, message: str, fix: str) -> None:
        self.errors.append(_error(self.path, self.key_lines.get(key, 1), message, fix))

    def check(self, data: dict[Any, Any]) -> FrontMatter | None:
        for key in data:
            if key not in CHECKED_KEYS and key not in IGNORED_KEYS:
                self.fail(str(key), f"unknown front matter key {key!r}", _FIX_KEYS)

        title = data.get("title")
        if "title" not in data:
            self.errors.append(
                _error(self.path, 1, "front matter has no 'title'", "add `title: <page title>`")
            )
        elif not isinstance(title, str) or not title.strip():
            self.fail("title", f"'title' must be a non-empty string, got {title!r}", "quote it")

        date = data.get("date")
        if date is not None and not isinstance(date, datetime.date):
            self.fail(
                "date",
                f"'date' must be a date such as 2024-05-01, got {date!r}",
                "write the date as YYYY-MM-DD (optionally followed by HH:MM:SS), unquoted",
            )
        categories = self.check_names("categories", data.get("categories"))
        tags = self.check_names("tags", data.get("tags"))
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            self.fail("description", f"'description' must be a string, got {description!r}", "")
        execute = self.check_execute(data.get("execute"))

        if self.errors:
            return None
        assert isinstance(title, str)
        return FrontMatter(
            title=title,
            date=date,
            categories=categories,
            tags=tags,
            description=description,
            execute=execute,
        )

    def check_names(self, key: str, value: object) -> tuple[str, ...]:
        """Accept a string or a list of strings, as Hexo does."""
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        self.fail(
            key,
            f"'{key}' must be a string or a list of strings, got {value!r}",
            f"write `{key}: [a, b]`",
        )
        return ()

    def check_execute(self, value: object) -> ExecuteOptions:
        if value is None:
            return ExecuteOptions()
        if not isinstance(value, dict):
            self.fail(
                "execute",
                f"'execute' must be a mapping, got {value!r}",
                f"use the keys {', '.join(EXECUTE_KEYS)}",
            )
            return ExecuteOptions()
        unknown = sorted(str(key) for key in value if key not in EXECUTE_KEYS)
        if unknown:
            self.fail(
                "execute",
                f"unknown key {unknown[0]!r} under 'execute'",
                f"use only {', '.join(EXECUTE_KEYS)} under 'execute'",
            )

        timeout = None
        sizes: dict[str, int | Literal["unlimited"] | None] = {}
        try:
            if "timeout" in value:
                timeout = parse_timeout(value["timeout"], key="execute.timeout")
            for key in ("memory_limit", "output_limit"):
                if key in value:
                    size = parse_size(value[key], key=f"execute.{key}")
                    sizes[key] = "unlimited" if size is None else size
        except OptionsError as exc:
            self.fail("execute", str(exc), "correct the value under 'execute'")
        return ExecuteOptions(
            timeout=timeout,
            memory_limit=sizes.get("memory_limit"),
            output_limit=sizes.get("output_limit"),
        )

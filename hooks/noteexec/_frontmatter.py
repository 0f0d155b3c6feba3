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
from noteexec._options import parse_memory_limit, parse_timeout

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
EXECUTE_KEYS = ("timeout", "memory_limit")

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
    """

    timeout: float | None = None
    memory_limit: int | Literal["unlimited"] | None = None


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
        error = _error(
            path,
            1,
            "missing YAML front matter",
            "start the note with a header such as\n---\ntitle: Sigmoid 函数\n---",
        )
        return FrontMatterBlock(None, 0, (error,))

    text = "".join(lines[1 : end - 1])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + mark.line if mark is not None else 1
        summary = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        error = _error(
            path, line, f"invalid YAML in front matter: {summary}", "fix the YAML syntax"
        )
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
        memory_limit: int | Literal["unlimited"] | None = None
        try:
            if "timeout" in value:
                timeout = parse_timeout(value["timeout"], key="execute.timeout")
            if "memory_limit" in value:
                limit = parse_memory_limit(value["memory_limit"], key="execute.memory_limit")
                memory_limit = "unlimited" if limit is None else limit
        except OptionsError as exc:
            self.fail("execute", str(exc), "correct the value under 'execute'")
        return ExecuteOptions(timeout=timeout, memory_limit=memory_limit)

"""Run the docstring examples of the modules in ``extra.notes.doctests``; fail the build on drift.

The API page shows these docstrings, so every ``>>>`` example in them must
print what it shows. Each docstring runs with doctest in a fresh process forked
by the note engine, all in parallel. Like a new Python session, the process
starts with an empty namespace, so the examples import what they use. The
output must match exactly unless an example sets an option with a directive
such as ``# doctest: +ELLIPSIS``. Examples in notes (```` ```pycon ````
fences) are run by ``hooks/notes.py`` with their note.

MkDocs events:

- ``on_startup`` records whether this is ``mkdocs serve`` (errors go on the page) or
  ``mkdocs build`` (errors fail the build).
- ``on_config`` reads the engine options from ``extra.notes`` in mkdocs.yml.
- ``on_files`` runs the examples of every file the ``doctests`` patterns match and logs
  each failure as an error with its ``path:line``. A module whose source and inputs did
  not change since it last passed is taken from the cache (``.cache/notes/``).
- ``on_page_content`` under ``mkdocs serve`` puts the error panel on each page that
  renders a failing module with mkdocstrings (a ``::: actlib`` line).
- ``on_env`` raises after all pages are rendered when an example failed.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from noteexec import (
    ExampleResult,
    ExecutionOptions,
    ForkserverError,
    NoteRunner,
    OptionsError,
    module_name,
    open_cache,
    render_error_panel,
)

if TYPE_CHECKING:
    from jinja2 import Environment
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

log = get_plugin_logger("actnotes.doctests")

INTERRUPTED_STATUS = 130
"""Exit status after Ctrl-C: 128 + SIGINT, what a shell reports for an interrupted command."""
PANEL_TITLE = "本页文档字符串中的示例没有通过构建检查"
_MKDOCSTRINGS_IDENTIFIER = re.compile(r"^:::[ \t]+([\w.]+)", re.MULTILINE)


class _State:
    """State of the examples in the current build; `on_files` resets it."""

    command: Literal["build", "gh-deploy", "serve"] = "build"
    options = ExecutionOptions()
    failed: dict[str, ExampleResult] = {}  # noqa: RUF012 - replaced, never mutated in place


def on_startup(command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
    _State.command = command


def on_config(config: MkDocsConfig) -> None:
    settings = config.extra.get("notes", {})
    if not isinstance(settings, dict):
        raise PluginError(f"mkdocs.yml: extra.notes must be a mapping, got {settings!r}")
    try:
        _State.options = ExecutionOptions.from_mapping(settings, base_dir=_root(config))
    except OptionsError as exc:
        raise PluginError(f"mkdocs.yml: invalid extra.notes option\n{exc}") from exc


def on_files(files: Files, config: MkDocsConfig) -> Files:
    _State.failed = {}
    if not _State.options.doctests:
        return files
    root = _root(config)
    sources = _sources(root, _State.options.doctests)

    started = time.monotonic()
    try:
        cache = open_cache(root, _State.options, logger=log)
        with NoteRunner(root=root, options=_State.options, cache=cache, logger=log) as runner:
            results = runner.run_examples(sources)
    except (OptionsError, ForkserverError) as exc:
        raise PluginError(f"cannot run the docstring examples\n{exc}") from exc
    except KeyboardInterrupt:
        # MkDocs would exit with status 1 ("Aborted!"); a shell reports SIGINT as 130.
        log.error("Interrupted while the examples ran; their processes are stopped, nothing cached")
        raise SystemExit(INTERRUPTED_STATUS) from None
    log.info(
        "Ran the docstring examples of %d of %d modules in %.1f s (%d unchanged, from the cache)",
        len(runner.executed),
        len(sources),
        time.monotonic() - started,
        len(runner.from_cache),
    )

    for result in results.values():
        if result.errors:
            _State.failed = {**_State.failed, result.path: result}
            details = "\n\n".join(str(error) for error in result.errors)
            log.error("%s: %d example(s) failed:\n%s", result.path, len(result.errors), details)
    return files


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if not _State.failed or _State.command != "serve" or page.markdown is None:
        return html
    documented = set(_MKDOCSTRINGS_IDENTIFIER.findall(page.markdown))
    errors = [
        error
        for path, result in sorted(_State.failed.items())
        if _documents(documented, module_name(_root(config) / path))
        for error in result.errors
    ]
    return render_error_panel(errors, title=PANEL_TITLE) + html


def on_env(env: Environment, config: MkDocsConfig, files: Files) -> None:
    if not _State.failed or _State.command == "serve":
        return
    count = len(_State.failed)
    raise PluginError(
        f"docstring examples failed in {count} module{'s' if count > 1 else ''}: "
        f"{', '.join(sorted(_State.failed))}. The errors are listed above; fix them and "
        "build again."
    )


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _sources(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Return the ``.py`` files the patterns match, sorted; a pattern matching none is an error."""
    found: set[Path] = set()
    for pattern in patterns:
        matched = {path for path in root.glob(pattern) if path.suffix == ".py" and path.is_file()}
        if not matched:
            raise PluginError(
                f"mkdocs.yml: extra.notes.doctests: {pattern!r} matches no .py file under "
                f"{root}; correct the pattern or remove it"
            )
        found |= matched
    return sorted(found)


def _documents(identifiers: set[str], module: str) -> bool:
    """Return whether a page with these ``:::`` identifiers renders `module`'s docstrings."""
    return any(module == name or module.startswith(f"{name}.") for name in identifiers)

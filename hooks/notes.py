"""Execute the notes in notebooks/ and publish them as pages; fail the build on any error.

MkDocs events:

- ``on_startup`` records whether this is ``mkdocs serve`` (errors go on the page) or
  ``mkdocs build`` (errors fail the build).
- ``on_config`` reads the engine options from ``extra.notes`` in mkdocs.yml.
- ``on_files`` gives every page its path in the repository as ``src_uri``
  (``docs/index.md``, ``notebooks/sigmoid.md``), so ``nav`` and relative ``.md`` links
  use the same paths in MkDocs and in Jupyter. It adds each ``notebooks/**/*.md`` as a
  page at ``<name>/`` (``notebooks/sigmoid.md`` → ``/sigmoid/``, an ``index.md`` at its
  folder's URL) and publishes the images next to the notes. A note and a docs page with
  the same URL are an error. Then it runs all notes in parallel, once per build: the
  cells of each note, and each ```pycon fence of examples in a fresh process of its own.
  A note whose text and inputs did not change since it last passed is taken from the
  cache in ``.cache/notes/``, which ``extra.notes.cache: false`` or ``NOTEEXEC_CACHE=0``
  turns off. The debug log (``mkdocs build -v``) gives each cache decision with its reason.
  A cell whose text output was cut at its ``output_limit`` is logged as a warning, so
  ``--strict`` stops on it; notes may write inside the repository only to ``.cache/``, the
  site folder and ``__pycache__`` folders.
- ``on_page_read_source`` hands MkDocs a note's executed Markdown, with the error
  panel at the top when the note failed.
- ``on_page_content`` checks that every formula of a note's prose reached the page as
  math (pymdownx.arithmatex output).
- ``on_env`` raises after all pages are rendered when a note failed, so that one
  ``mkdocs build`` reports every failing note, with or without ``--strict``.

Ctrl-C while notes run kills their processes, caches nothing and ends MkDocs with exit
status 130, as a shell reports a command stopped by SIGINT. MkDocs 1.6.1 itself would
turn the KeyboardInterrupt into click's "Aborted!" and exit status 1, and does not pass
it to ``on_build_error``.

Under ``mkdocs serve`` the hook never raises for a failing note; it logs the error and
the page shows it. NOTE: ``mkdocs serve --strict`` still aborts such a rebuild, because
MkDocs counts the logged error, and keeps serving the previous site.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from noteexec import (
    ExecutionOptions,
    ForkserverError,
    NoteCache,
    NoteError,
    NoteResult,
    NoteRunner,
    OptionsError,
    find_lost_formulas,
    open_cache,
    render_error_panel,
)

if TYPE_CHECKING:
    from jinja2 import Environment
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.pages import Page

log = get_plugin_logger("actnotes.notes")

NOTES_DIR = "notebooks"
DOCS_PREFIX = "docs"
INTERRUPTED_STATUS = 130
"""Exit status after Ctrl-C: 128 + SIGINT, what a shell reports for an interrupted command."""
ASSET_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"})
"""Files next to the notes that are published, so that notes can show images."""


class _State:
    """State of the notes in the current build; `on_files` resets it."""

    command: Literal["build", "gh-deploy", "serve"] = "build"
    options = ExecutionOptions()
    results: dict[str, NoteResult] = {}  # noqa: RUF012 - replaced, never mutated in place
    cache: NoteCache | None = None
    failed: dict[str, list[NoteError]] = {}  # noqa: RUF012 - replaced, never mutated in place


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
    _State.results = {}
    _State.cache = None
    _State.failed = {}
    root = _root(config)
    notes_dir = root / NOTES_DIR
    pages = sorted(notes_dir.rglob("*.md")) if notes_dir.is_dir() else []

    remapped = [_remap_docs_file(file, config) for file in files]
    added = [_note_file(path, root, config) for path in pages]
    added += [_asset_file(path, root, config) for path in _assets(notes_dir)]
    new_files = Files([*remapped, *added])
    _check_url_collisions(new_files)
    if not pages:
        return new_files

    started = time.monotonic()
    options = dataclasses.replace(_State.options, writable=_site_dir_inside(root, config))
    try:
        cache = _State.cache = open_cache(root, options, logger=log)
        with NoteRunner(root=root, options=options, cache=cache, logger=log) as runner:
            results = runner.run_notes(pages)
    except (OptionsError, ForkserverError) as exc:
        raise PluginError(f"cannot execute the notes\n{exc}") from exc
    except KeyboardInterrupt:
        log.error("Interrupted while the notes ran; their processes are stopped, nothing cached")
        raise SystemExit(INTERRUPTED_STATUS) from None
    log.info(
        "Ran %d of %d notes in %.1f s (%d unchanged, from the cache)",
        len(runner.executed),
        len(pages),
        time.monotonic() - started,
        len(runner.from_cache),
    )

    for result in results.values():
        _State.results[result.path] = result
        for notice in result.notices:
            log.warning("%s", notice)
        if result.errors:
            _report(result.path, list(result.errors))
    return new_files


def on_page_read_source(page: Page, config: MkDocsConfig) -> str | None:
    result = _State.results.get(page.file.src_uri)
    if result is None:
        return None
    return _with_panel(result.markdown, render_error_panel(result.errors))


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    result = _State.results.get(page.file.src_uri)
    if result is None:
        return html
    lost = find_lost_formulas(result.formulas, html, result.path)
    if not lost:
        return html
    # The run passed and was cached, but the note fails: the next build must check it again.
    if _State.cache is not None:
        _State.cache.remove("note", result.path)
    _report(result.path, lost)
    return render_error_panel(lost) + html


def on_env(env: Environment, config: MkDocsConfig, files: Files) -> None:
    if not _State.failed or _State.command == "serve":
        return
    count = len(_State.failed)
    raise PluginError(
        f"{count} note{'s' if count > 1 else ''} failed: {', '.join(sorted(_State.failed))}. "
        "The errors are listed above; fix them and build again."
    )


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _site_dir_inside(root: Path, config: MkDocsConfig) -> tuple[Path, ...]:
    """Return the site folder if it is inside `root`, for the folders notes may write to."""
    site_dir = Path(config.site_dir).resolve()
    return (site_dir,) if site_dir.is_relative_to(root) else ()


def _report(path: str, errors: list[NoteError]) -> None:
    """Log a note's errors as one message; `on_env` raises for them in a build."""
    _State.failed = {**_State.failed, path: [*_State.failed.get(path, []), *errors]}
    details = "\n\n".join(str(error) for error in errors)
    log.error("%s failed with %d error(s):\n%s", path, len(errors), details)


def _with_panel(markdown: str, panel: str) -> str:
    """Insert `panel` after the YAML header of `markdown`."""
    if not panel:
        return markdown
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end >= 0:
            split = end + len("\n---\n")
            return markdown[:split] + "\n" + panel + markdown[split:]
    return panel + markdown


def _remap_docs_file(file: File, config: MkDocsConfig) -> File:
    """Give a docs_dir file the src_uri ``docs/<path>``, keeping its URL."""
    if file.generated_by is not None or file.src_dir is None:
        return file
    if Path(file.src_dir).resolve() != Path(config.docs_dir).resolve():
        return file
    docs_relative = Path(config.docs_dir).resolve().relative_to(_root(config)).as_posix()
    if docs_relative != DOCS_PREFIX:
        raise PluginError(
            f"mkdocs.yml: docs_dir must be '{DOCS_PREFIX}' (the folder next to mkdocs.yml) "
            f"for notes and docs pages to link to each other, got {config.docs_dir!r}"
        )
    return File(
        f"{DOCS_PREFIX}/{file.src_uri}",
        src_dir=str(_root(config)),
        dest_dir=config.site_dir,
        use_directory_urls=config.use_directory_urls,
        dest_uri=file.dest_uri,
        inclusion=file.inclusion,
    )


def _note_file(path: Path, root: Path, config: MkDocsConfig) -> File:
    relative = path.relative_to(root / NOTES_DIR).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] in ("index", "README"):
        parts.pop()
    if not parts:
        dest_uri = "index.html"
    elif config.use_directory_urls:
        dest_uri = "/".join(parts) + "/index.html"
    else:
        dest_uri = "/".join(parts) + ".html"
    return File(
        path.relative_to(root).as_posix(),
        src_dir=str(root),
        dest_dir=config.site_dir,
        use_directory_urls=config.use_directory_urls,
        dest_uri=dest_uri,
    )


def _assets(notes_dir: Path) -> list[Path]:
    if not notes_dir.is_dir():
        return []
    return sorted(
        path
        for path in notes_dir.rglob("*")
        if path.suffix.lower() in ASSET_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(notes_dir).parts)
    )


def _asset_file(path: Path, root: Path, config: MkDocsConfig) -> File:
    return File(
        path.relative_to(root).as_posix(),
        src_dir=str(root),
        dest_dir=config.site_dir,
        use_directory_urls=config.use_directory_urls,
        dest_uri=path.relative_to(root / NOTES_DIR).as_posix(),
        inclusion=InclusionLevel.INCLUDED,
    )


def _check_url_collisions(files: Files) -> None:
    owners: dict[str, str] = {}
    for file in files.documentation_pages():
        other = owners.setdefault(file.dest_uri, file.src_uri)
        if other != file.src_uri:
            raise PluginError(
                f"{other} and {file.src_uri} are both published as {file.url!r}\n"
                "Rename one of them: a note's URL is its path under notebooks/ without .md."
            )

"""State in every page's footer what computed it, and keep builds reproducible.

MkDocs events:

- ``on_config`` appends a provenance line to ``config.copyright``, which Material renders in
  the footer of every page, the 404 page included. The line names the installed versions of
  actlib, NumPy and Matplotlib. In a git checkout it also names the source commit, marked
  when tracked files have uncommitted changes. It contains no timestamp.
- The same event sets ``SOURCE_DATE_EPOCH`` to the last commit's time when the caller has
  not set it, because MkDocs writes that date into ``sitemap.xml`` and ``sitemap.xml.gz``.
  Outside git those dates stay the build day's.
"""

from __future__ import annotations

import os
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

log = get_plugin_logger("actnotes.provenance")

# Distribution names and how the footer spells them.
COMPUTED_BY = {"actlib": "actlib", "numpy": "NumPy", "matplotlib": "Matplotlib"}
# The footer is site content, so it is Chinese with full-width punctuation.
VERSIONS_TEXT = "构建本页所用的版本：{versions}"
COMMIT_TEXT = "；源码提交 <code>{commit}</code>"
DIRTY_TEXT = "（含未提交的修改）"


def on_config(config: MkDocsConfig) -> None:
    repo_dir = Path(config.config_file_path).parent
    commit = _git(repo_dir, "rev-parse", "--short", "HEAD")

    footer = _provenance_html(commit, dirty=commit is not None and _has_changes(repo_dir))
    config.copyright = f"{config.copyright}<br>{footer}" if config.copyright else footer
    log.debug("Footer: %s", footer)

    if "SOURCE_DATE_EPOCH" in os.environ:
        return
    commit_time = _git(repo_dir, "log", "-1", "--format=%ct")
    if commit_time:
        os.environ["SOURCE_DATE_EPOCH"] = commit_time
        log.debug("SOURCE_DATE_EPOCH=%s (time of the last commit)", commit_time)


def _provenance_html(commit: str | None, *, dirty: bool) -> str:
    versions = "、".join(f"{label} {_version(name)}" for name, label in COMPUTED_BY.items())
    text = VERSIONS_TEXT.format(versions=versions)
    if commit is not None:
        text += COMMIT_TEXT.format(commit=commit)
        if dirty:
            text += DIRTY_TEXT
    return f'<span class="actnotes-provenance">{text}。</span>'


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError as error:
        raise PluginError(
            f"Cannot state what computed the pages: the package '{distribution}' "
            "is not installed.\n"
            "Fix: run `make build` (or `.venv/bin/pip install -e .` for actlib)."
        ) from error


def _has_changes(repo_dir: Path) -> bool:
    # Untracked files are not counted: they do not change what a clean checkout builds.
    status = _git(repo_dir, "status", "--porcelain", "--untracked-files=no")
    return bool(status)


def _git(repo_dir: Path, *args: str) -> str | None:
    """Run git in ``repo_dir``; return its stripped output, or None outside a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        log.debug("git is not installed: the footer names no commit")
        return None
    if completed.returncode != 0:
        log.debug("git %s failed in %s: %s", " ".join(args), repo_dir, completed.stderr.strip())
        return None
    return completed.stdout.strip()

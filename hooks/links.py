"""Fail the build on a broken internal link or anchor in the built HTML.

MkDocs 1.6.1 reports a link to a missing page only as a warning, and reports a missing
anchor only at the level set by ``validation.links.anchors``, so without ``--strict`` a broken
link still gives a green build. This hook checks the built site itself: every internal link
(``<a href>``, and the ``src``/``href`` of scripts, stylesheets, images and frames) must name a
file that exists in the site, and its ``#fragment`` must name an ``id`` in the target page.
Off-site links are not checked.

MkDocs events:

- ``on_startup`` records whether the command is ``serve``.
- ``on_post_page`` records which source file built each HTML file, for the messages.
- ``on_post_build`` checks the links. Each broken link is logged as an error; ``mkdocs build``
  then raises, with or without ``--strict``. Under ``mkdocs serve`` nothing is raised, because
  MkDocs would keep serving the previous site.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger

if TYPE_CHECKING:
    from typing import Literal

    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.pages import Page

log = get_plugin_logger("actnotes.links")

# Attributes that make the browser load or navigate to another URL.
LINK_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "embed": "src",
    "video": "src",
    "audio": "src",
    "track": "src",
}
# A host name that cannot occur in a real link, used to resolve relative links.
SITE_HOST = "site.invalid"

_serving = False
_sources: dict[str, Source] = {}


@dataclass(frozen=True)
class Link:
    """One URL in a built HTML file: the attribute value as written, and its line."""

    url: str
    line: int


@dataclass(frozen=True)
class Source:
    """The file a built HTML file came from: its path as shown in messages, and on disk."""

    name: str
    path: Path | None


@dataclass
class ParsedPage:
    """The ids and links of one built HTML file."""

    ids: set[str]
    links: list[Link]


def on_startup(command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
    global _serving
    _serving = command == "serve"


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> None:
    source = Source(name=page.file.src_uri, path=None)
    if page.file.abs_src_path is not None:
        path = Path(page.file.abs_src_path)
        config_dir = os.path.dirname(config.config_file_path)
        source = Source(name=Path(os.path.relpath(path, config_dir)).as_posix(), path=path)
    _sources[page.file.dest_uri] = source


def on_post_build(config: MkDocsConfig) -> None:
    site_dir = Path(config.site_dir)
    pages = {
        path.relative_to(site_dir).as_posix(): _parse(path)
        for path in sorted(site_dir.rglob("*.html"))
    }
    log.debug("Checking the links of %d HTML files in %s", len(pages), site_dir)

    site_path = urlsplit(config.site_url or "/").path or "/"
    if not site_path.endswith("/"):
        site_path += "/"
    problems = [
        problem
        for html_path, parsed in pages.items()
        for link in parsed.links
        if (problem := _check(link, html_path, pages, site_dir, config.site_url, site_path))
    ]
    if not problems:
        return

    for problem in problems:
        log.error("%s", problem)
    if not _serving:
        raise PluginError(
            f"{len(problems)} broken internal link(s) in the built site: see the errors above."
        )


def _check(
    link: Link,
    html_path: str,
    pages: dict[str, ParsedPage],
    site_dir: Path,
    site_url: str | None,
    site_path: str,
) -> str | None:
    """Return a message when ``link`` in ``html_path`` is broken, else None."""
    target = _site_relative(link.url, html_path, site_url, site_path)
    if target is None:
        return None
    path, fragment = target

    where = _describe_location(link, html_path, fragment)
    if path is None:
        return (
            f"{where}: broken link '{link.url}': it points outside the site, whose root is "
            f"'{site_path}'.\n"
            "Fix: write the relative path of the target's .md file, as in the repository."
        )

    file_path = _existing_file(site_dir, path)
    if file_path is None:
        return (
            f"{where}: broken link '{link.url}': the built site has no file '{path}'.\n"
            "Fix: link to a page by the relative path of its .md file, as in the repository "
            "(e.g. ../notebooks/sigmoid.md from docs/index.md), or correct the file name."
        )

    if fragment and file_path in pages and fragment not in pages[file_path].ids:
        return (
            f"{where}: broken anchor '{link.url}': '{file_path}' has no element with "
            f"id '{fragment}'.\n"
            "Fix: use an id that exists there (a heading's id is the part after # in the "
            "heading's permalink on the built page), or give the heading that id with {#id}."
        )
    return None


def _describe_location(link: Link, html_path: str, fragment: str) -> str:
    """Name the source file and line of ``link``, or the built file and line."""
    source = _sources.get(html_path)
    if source is None:
        return f"{html_path}:{link.line}"
    if source.path is not None and source.path.is_file():
        # MkDocs rewrites a resolved `page.md#id` link to `../page/#id`, so the
        # fragment is what the source still contains verbatim.
        needles = [link.url, f"#{fragment}"] if fragment else [link.url]
        # A source that is not UTF-8 (reported by the notes hook) must not stop the check.
        lines = source.path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, text in enumerate(lines, start=1):
            if any(needle in text for needle in needles):
                return f"{source.name}:{number}"
    return f"{source.name} (built as {html_path})"


def _site_relative(
    url: str, html_path: str, site_url: str | None, site_path: str
) -> tuple[str | None, str] | None:
    """Resolve ``url`` as written in ``html_path``.

    Return ``(path inside the site or None when outside it, unquoted fragment)``, or None
    when the link is off-site, is no URL of a file (mailto:, data:, javascript:) or is empty.
    """
    if url in ("", "#"):
        return None
    if site_url and url.startswith(site_url):
        url = site_path + url.removeprefix(site_url)

    page_url = f"https://{SITE_HOST}{site_path}{html_path}"
    parts = urlsplit(urljoin(page_url, url))
    if parts.scheme != "https" or parts.netloc != SITE_HOST:
        return None

    fragment = unquote(parts.fragment)
    if not parts.path.startswith(site_path):
        return None, fragment
    return unquote(parts.path.removeprefix(site_path)), fragment


def _existing_file(site_dir: Path, path: str) -> str | None:
    """Return the site-relative file a web server would send for ``path``, or None."""
    candidate = site_dir / path
    if path == "" or path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    if not candidate.is_file():
        return None
    return candidate.relative_to(site_dir).as_posix()


def _parse(path: Path) -> ParsedPage:
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return ParsedPage(ids=parser.ids, links=parser.links)


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[Link] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if values.get(name):
                self.ids.add(values[name] or "")

        attribute = LINK_ATTRIBUTES.get(tag)
        url = values.get(attribute) if attribute else None
        if url is not None:
            self.links.append(Link(url=url.strip(), line=self.getpos()[0]))

    handle_startendtag = handle_starttag

"""Matplotlib set-up and the SVG that a figure becomes on a page.

Figures are inline SVG (not separate files): the axes and text are drawn in
``currentColor`` and legend boxes in the page background colour, so one SVG
reads well in both palettes, and the alt text sits in the SVG itself. The SVG is
byte-identical between builds because it has no date metadata, its text is drawn
as paths from fixed font files, and its ids derive from the note, the cell and
the figure number (``svg.hashsalt`` and a prefix on every id). The prefix also
keeps ids unique on a page.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.style
from matplotlib import font_manager

STYLE_PATH = Path(__file__).with_name("notes.mplstyle")
FIGURE_CLASS = "notes-figure"
"""Class of the root ``<svg>`` of every figure; the site's CSS sets its colour."""

FOREGROUND_SENTINEL = "#010203"
BACKGROUND_SENTINEL = "#fdfcfb"
FOREGROUND = "currentColor"
BACKGROUND = "var(--md-default-bg-color, #ffffff)"

_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_GLOBAL_STYLE = re.compile(r"\s*<style type=\"text/css\">(.*?)</style>", re.DOTALL)
_GLOBAL_RULE = re.compile(r"^\s*\*\s*\{(?P<body>[^}]*)\}\s*$")
_ID = re.compile(r"\bid=\"([^\"]+)\"")
_ID_REFERENCE = re.compile(r"(\bid=\"|href=\"#|url\(#)([^\")]+)")
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def register_fonts(fonts: Sequence[Path]) -> None:
    """Make the font files available to matplotlib; files already known are skipped."""
    known = {Path(entry.fname).resolve() for entry in font_manager.fontManager.ttflist}
    for font in fonts:
        if font.resolve() not in known:
            font_manager.fontManager.addfont(str(font))


def apply_style() -> None:
    """Apply the notes' matplotlib style (``notes.mplstyle``) to the global rcParams.

    Also turns off the warning about more than 20 open figures: figures still
    open after a cell are drawn and closed, as by Jupyter's inline backend,
    so only one cell's figures are ever open. A style file cannot set this.
    """
    matplotlib.style.use(STYLE_PATH)
    matplotlib.rcParams["figure.max_open_warning"] = 0


def figure_to_svg(figure: Any, *, id_prefix: str) -> str:
    """Return `figure` as an ``<svg>`` element ready to embed in a page.

    `id_prefix` must be unique on the page and stable across builds; it seeds
    ``svg.hashsalt`` and prefixes every id.
    """
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": id_prefix}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return clean_svg(buffer.getvalue().decode("utf-8"), id_prefix=id_prefix)


def clean_svg(svg: str, *, id_prefix: str) -> str:
    """Turn matplotlib's SVG document into an element for an HTML page.

    Drops the XML prologue and metadata, moves the document-wide ``*{...}``
    style (which would style the whole page) onto the root element, rewrites
    the sentinel colours of the style, prefixes ids and adds `FIGURE_CLASS`.
    """
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _METADATA.sub("", svg, count=1)

    root_style = ""
    style = _GLOBAL_STYLE.search(svg)
    if style is not None:
        rule = _GLOBAL_RULE.match(style.group(1))
        if rule is not None:
            root_style = rule.group("body").strip()
            svg = svg[: style.start()] + svg[style.end() :]

    svg = svg.replace(FOREGROUND_SENTINEL, FOREGROUND).replace(BACKGROUND_SENTINEL, BACKGROUND)
    svg = _prefix_ids(svg, id_prefix)

    attributes = f' class="{FIGURE_CLASS}"'
    if root_style:
        attributes += f' style="{root_style}"'
    return svg.replace("<svg", "<svg" + attributes, 1).rstrip() + "\n"


def add_alt_text(svg: str, alt: str) -> str:
    """Give an inline SVG an accessible name: ``role="img"``, ``aria-label`` and ``<title>``."""
    opening = _SVG_OPEN.search(svg)
    if opening is None:
        raise ValueError("add_alt_text: no <svg> element in the figure output")
    label = html.escape(alt, quote=True)
    tag = opening.group()
    new_tag = tag[:-1] + f' role="img" aria-label="{label}">'
    return svg[: opening.start()] + new_tag + f"<title>{label}</title>" + svg[opening.end() :]


def _prefix_ids(svg: str, prefix: str) -> str:
    ids = set(_ID.findall(svg))

    def rename(match: re.Match[str]) -> str:
        name = match.group(2)
        return match.group(1) + (f"{prefix}-{name}" if name in ids else name)

    return _ID_REFERENCE.sub(rename, svg)


class FigureNamer:
    """Hand out figure id prefixes: ``<prefix>-f1``, ``<prefix>-f2``, ..."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def reset(self, prefix: str) -> None:
        """Start numbering again under a new prefix (the engine does this per cell)."""
        self.prefix = prefix
        self.count = 0

    def next_prefix(self) -> str:
        """Return the id prefix of the next figure."""
        self.count += 1
        return f"{self.prefix}-f{self.count}"

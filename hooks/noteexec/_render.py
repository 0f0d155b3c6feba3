"""Markdown of a note's page: prose, code and the outputs of its cells.

Outputs are chosen per display as JupyterLab ranks MIME types (HTML, Markdown,
LaTeX, SVG, PNG/JPEG, plain text). Markdown and LaTeX go into the page as
Markdown (trusted author content, as in Jupyter); HTML and SVG as raw HTML;
plain text and streams HTML-escaped inside ``<pre><code>``. Every output sits
in a ``<div class="notes-output notes-KIND">`` for the site's CSS, with KIND one
of stdout, stderr, result, html, figure, svg, image, warning, error, and
``truncated`` for the notice where a cell's text output was cut at its limit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from noteexec._errors import NoteError
from noteexec._figures import FIGURE_CLASS, add_alt_text
from noteexec._math import normalise_display_math
from noteexec._options import format_size
from noteexec._parse import CodeCell, Note

MIME_ORDER = (
    "text/html",
    "text/markdown",
    "text/latex",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/plain",
)
PANEL_CLASS = "notes-error-panel"
_PANEL_TITLE = "这篇笔记没有通过构建检查"
_PANEL_TEXT = (
    "mkdocs serve 照常显示页面；mkdocs build 会因以下错误失败。"
    "修改笔记并保存后，页面会自动重新构建。"
)

Record = Mapping[str, Any]
WarningFilter = Callable[[CodeCell, Mapping[str, Any]], bool]
"""Return whether a recorded warning is shown on the page."""


def render_markdown(note: Note, records: Mapping[int, Record], show_warning: WarningFilter) -> str:
    """Return the page Markdown of `note` with the outputs in `records` (keyed by cell number)."""
    parts: list[str] = []
    if note.front_matter is not None:
        meta = yaml.safe_dump(note.front_matter.page_meta(), allow_unicode=True, sort_keys=False)
        parts.append(f"---\n{meta}---\n")

    cells = {cell.line - 1: cell for cell in note.cells}
    index = note.body_start
    while index < len(note.lines):
        cell = cells.get(index)
        if cell is None:
            parts.append(note.lines[index] + "\n")
            index += 1
            continue
        parts.append(_render_cell(cell, records.get(cell.number), show_warning))
        index = cell.end_line
    return "".join(parts)


def render_error_panel(errors: Sequence[NoteError], *, title: str = _PANEL_TITLE) -> str:
    """Return an HTML admonition that lists `errors`, for the top of a page under ``mkdocs serve``.

    All error text is HTML-escaped; `title` is the admonition's title.
    """
    if not errors:
        return ""
    items = "\n".join(
        f"<pre><code>{html.escape(str(error), quote=False)}</code></pre>" for error in errors
    )
    return (
        f'<div class="admonition failure {PANEL_CLASS}">\n'
        f'<p class="admonition-title">{html.escape(title, quote=False)}</p>\n'
        f"<p>{_PANEL_TEXT}</p>\n"
        f"{items}\n</div>\n\n"
    )


def figure_count(record: Record) -> int:
    """Return the number of matplotlib figures among a cell's outputs."""
    return sum(1 for output in record["outputs"] if _is_figure(output))


def _render_cell(cell: CodeCell, record: Record | None, show_warning: WarningFilter) -> str:
    parts = ["\n"]
    if not cell.options.hide_input:
        fence = "`" * max(3, _longest_backtick_run(cell.source) + 1)
        parts.append(f"{fence}python\n{cell.source}\n{fence}\n\n")
    if record is None or cell.options.hide_output:
        return "".join(parts)

    figures = 0
    for output in record["outputs"]:
        kind = output["output_type"]
        if kind == "stream":
            parts.append(_pre(output["name"], output["text"]))
        elif kind == "warning":
            warning = record["warnings"][output["index"]]
            if show_warning(cell, warning):
                parts.append(_pre("warning", f"{warning['category']}: {warning['message']}\n"))
        elif kind == "error":
            parts.append(_render_error(cell, output))
        elif kind == "truncated":
            parts.append(_render_truncated(output))
        elif _is_figure(output):
            alt = cell.options.alt[figures] if figures < len(cell.options.alt) else None
            figures += 1
            svg = output["data"]["image/svg+xml"]
            svg = add_alt_text(svg, alt) if alt is not None else svg
            parts.append(f'<div class="notes-output notes-figure">\n{svg.strip()}\n</div>\n\n')
        else:
            parts.append(_render_rich(output["data"]))
    return "".join(parts)


def _render_error(cell: CodeCell, output: Mapping[str, Any]) -> str:
    from noteexec._protocol import matches_declared

    if not output["timeout"] and matches_declared(output["mro"], cell.options.raises):
        return _pre("error", output["exception_only"])
    return _pre("error", output["traceback"])


def _render_truncated(output: Mapping[str, Any]) -> str:
    shown, total = format_size(output["shown"]), format_size(output["shown"] + output["dropped"])
    return (
        '<div class="notes-output notes-truncated"><p>'
        f"输出过长，已截断：这个单元共输出 {total} 文本，页面只显示前 {shown}。"
        '要显示更多，在代码块上设置 <code>output_limit="1 MiB"</code>，'
        "或在前置元数据中设置 <code>execute.output_limit</code>。</p></div>\n\n"
    )


def _render_rich(data: Mapping[str, str]) -> str:
    mime = next((mime for mime in MIME_ORDER if mime in data), None)
    if mime is None:
        return ""
    content = data[mime]
    if mime in ("text/markdown", "text/latex"):
        lines = content.splitlines()
        return "\n" + "\n".join(normalise_display_math(lines, set())) + "\n\n"
    if mime == "text/html":
        return f'<div class="notes-output notes-html">\n{content.strip()}\n</div>\n\n'
    if mime == "image/svg+xml":
        return f'<div class="notes-output notes-svg">\n{_strip_prologue(content)}\n</div>\n\n'
    if mime in ("image/png", "image/jpeg"):
        source = f"data:{mime};base64,{''.join(content.split())}"
        return f'<div class="notes-output notes-image"><img src="{source}" alt=""></div>\n\n'
    return _pre("result", content + "\n")


def _pre(kind: str, text: str) -> str:
    escaped = html.escape(text, quote=False)
    return f'<div class="notes-output notes-{kind}"><pre><code>{escaped}</code></pre></div>\n\n'


def _is_figure(output: Mapping[str, Any]) -> bool:
    svg = output.get("data", {}).get("image/svg+xml")
    return isinstance(svg, str) and f'class="{FIGURE_CLASS}"' in svg[:300]


def _strip_prologue(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:].strip() if start >= 0 else svg.strip()


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)

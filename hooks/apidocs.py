"""Turn the reStructuredText math of numpydoc docstrings into math the API page typesets.

actlib's docstrings follow numpydoc and write formulas as ``.. math:: ...`` directives and
``:math:`...``` roles, which read well in ``help()`` and Sphinx. mkdocstrings renders
docstrings as Markdown, where the directive would show as literal text and Markdown would eat
some of its backslashes. This griffe extension, loaded by mkdocstrings (``extensions`` in
mkdocs.yml), rewrites them into ``$$ ... $$`` blocks and ``$...$`` spans before rendering, so
pymdownx.arithmatex passes them to MathJax untouched. Only the rendered page changes; the
docstrings in the source stay numpydoc.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import griffe

log = logging.getLogger("mkdocs.plugins.actnotes.apidocs")

# `.. math:: formula` on one line, or `.. math::` followed by an indented block.
MATH_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<formula>.*)$")
MATH_ROLE = re.compile(r":math:`(?P<formula>[^`]+)`")


class RstMath(griffe.Extension):
    """Rewrite ``.. math::`` and ``:math:`` in every docstring griffe loads."""

    def on_instance(
        self,
        *,
        node: Any,
        obj: griffe.Object,
        agent: Any,
        **kwargs: Any,
    ) -> None:
        if obj.docstring is None or "math:" not in obj.docstring.value:
            return
        obj.docstring.value = rst_math_to_markdown(obj.docstring.value)
        log.debug("Rewrote reStructuredText math in the docstring of %s", obj.path)


def rst_math_to_markdown(text: str) -> str:
    """Return ``text`` with math directives as ``$$`` blocks and math roles as ``$`` spans."""
    lines = text.splitlines()
    output: list[str] = []
    index = 0
    while index < len(lines):
        match = MATH_DIRECTIVE.match(lines[index])
        if match is None:
            output.append(MATH_ROLE.sub(r"$\g<formula>$", lines[index]))
            index += 1
            continue

        indent = match["indent"]
        formula = [match["formula"]] if match["formula"].strip() else []
        index += 1
        # The directive's body: the lines indented deeper than the directive, blank lines
        # included, up to the first line that is not.
        while index < len(lines) and (
            not lines[index].strip() or _indent_width(lines[index]) > len(indent)
        ):
            formula.append(lines[index].strip())
            index += 1

        body = [line for line in formula if line]
        output.extend(["", f"{indent}$$", *(f"{indent}{line}" for line in body), f"{indent}$$", ""])
    return "\n".join(output)


def _indent_width(line: str) -> int:
    return len(line) - len(line.lstrip())

"""IPython extension that gives Jupyter the notes' figures and rich output.

The engine loads it into every note's shell; load it in JupyterLab to see the
same SVG figures as on the site::

    %load_ext noteexec.ipython

or for every session, in ``~/.ipython/profile_default/ipython_config.py``::

    c.InteractiveShellApp.extensions = ["noteexec.ipython"]

It switches matplotlib to the inline backend, applies ``notes.mplstyle``,
registers the fonts and renders figures as inline SVG (text as paths, axes in
``currentColor``). The fonts come from the ``NOTEEXEC_FONTS`` environment
variable (paths separated by ``os.pathsep``). Without it, the extension looks for
the Noto Sans SC file that ``npm ci`` installs, in ``node_modules/`` of the
current folder or one of its parents.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from noteexec._figures import FigureNamer, apply_style, figure_to_svg, register_fonts

NOTO_SANS_SC = Path(
    "node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"
)
"""The Chinese font file, relative to the repository root (installed by ``npm ci``)."""

_FIGURE_MIME_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")


def load_ipython_extension(shell: Any) -> None:
    """Configure `shell` for notes (IPython calls this on ``%load_ext``)."""
    configure_shell(shell, fonts=default_fonts())


def default_fonts() -> list[Path]:
    """Return the fonts from ``NOTEEXEC_FONTS``, or the Noto Sans SC file found upward."""
    configured = os.environ.get("NOTEEXEC_FONTS")
    if configured:
        return [Path(item) for item in configured.split(os.pathsep) if item]
    for folder in [Path.cwd(), *Path.cwd().parents]:
        candidate = folder / NOTO_SANS_SC
        if candidate.is_file():
            return [candidate]
    return []


def configure_shell(
    shell: Any, *, fonts: Sequence[Path], namer: FigureNamer | None = None
) -> FigureNamer:
    """Set up matplotlib and the figure formatter in `shell`; return the figure namer.

    Without `namer`, figure ids get a random per-session prefix, which keeps
    them unique in a notebook whose outputs come from several sessions.
    """
    from IPython.core.pylabtools import activate_matplotlib
    from matplotlib.figure import Figure
    from matplotlib_inline.backend_inline import configure_inline_support

    register_fonts(fonts)
    # What `%matplotlib inline` does, without asking the shell for a GUI event loop
    # (a bare InteractiveShell has none).
    backend = "module://matplotlib_inline.backend_inline"
    activate_matplotlib(backend)  # type: ignore[no-untyped-call]
    configure_inline_support(shell, backend)  # type: ignore[no-untyped-call]
    apply_style()

    namer = namer or FigureNamer(f"fig-{secrets.token_hex(3)}")
    formatters = shell.display_formatter.formatters
    for mime_type in _FIGURE_MIME_TYPES:
        formatters[mime_type].pop(Figure, None)
    formatters["image/svg+xml"].for_type(
        Figure, lambda figure: figure_to_svg(figure, id_prefix=namer.next_prefix())
    )
    return namer

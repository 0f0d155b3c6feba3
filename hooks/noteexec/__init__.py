"""noteexec: execute the notes (jupytext Markdown notebooks) at build time.

The engine does not import MkDocs; ``hooks/notes.py`` is the thin MkDocs hook
that calls it. Usage::

    from noteexec import ExecutionOptions, NoteRunner, open_cache

    options = ExecutionOptions(fonts=(noto_sans_sc,))
    with NoteRunner(root=repo, options=options, cache=open_cache(repo, options)) as runner:
        results = runner.run_notes(paths)        # {path: NoteResult}, run in parallel
        doctests = runner.run_examples(modules)  # {path: ExampleResult}, docstring examples
    for result in results.values():
        for error in result.errors:
            print(error)                         # notebooks/x.md:42: cell 3 raised ...

Process model
    `NoteRunner` starts a forkserver (``python -P -m noteexec._forkserver``)
    with a clean environment: PYTHONHASHSEED=0, one BLAS/OpenMP thread,
    MPLBACKEND=agg, LC_ALL=C.UTF-8, TZ=UTC, set before numpy is imported. The
    forkserver is single-threaded, imports numpy, matplotlib and IPython once
    and never imports actlib. Each note runs in a fresh process forked from it,
    one Unix-socket connection per note, so notes run in parallel (``jobs``) and
    nothing leaks from one note to the next (print options, rcParams,
    monkeypatches, ``sys.modules``). The forkserver starts when the first
    process is needed: a run served entirely from the cache starts none. A
    note's process has its own process group, reseeds ``random`` and NumPy's
    global generator with ``seed``, sets RLIMIT_AS (``memory_limit``, 4 GiB
    unless the note's ``execute.memory_limit`` sets another), works in the
    note's folder (so data next to the note opens as in Jupyter) and runs the
    cells. An audit hook blocks every change that Python code in the process
    makes to files inside the root, outside ``.cache/``, the ``writable``
    folders (the site folder) and ``__pycache__`` folders; subprocesses and C
    code that open files themselves are not covered. A generator from
    ``np.random.default_rng()`` without a seed is not reproducible: pass one. A
    cell past its timeout gets an exception at its current line (SIGALRM); if it
    does not return within ``deadline_grace`` seconds (a loop in C code), the
    runner has faulthandler dump its stack and kills its process group. A
    process that dies (``os._exit``, a segfault) is reported with the cell it
    was running. The calling process is never forked.

Jupyter semantics
    Cells run in order in one IPython `InteractiveShell` per note: the last
    expression is displayed unless the line ends with ``;``, ``display()``,
    ``_repr_markdown_``/``_repr_latex_``/``_repr_svg_``/``_repr_html_`` and
    magics work as in JupyterLab, stdout and stderr (also output of C code and
    subprocesses) are captured, plain text is HTML-escaped on the page. A
    cell's text output (streams and plain-text results) stops at
    ``output_limit`` bytes, 128 KiB unless the cell or the note sets another:
    the page shows a notice where it was cut, and `NoteResult.notices` says so.

Fences and cell options
    Every fence names a language; ``python`` fences are code cells, ``pycon``
    fences are examples (below), others are shown and never run. Options are
    jupytext cell metadata on the fence: ```` ```python tags=["hide-input"]
    alt="Sigmoid 曲线" raises="ValueError" warns="RuntimeWarning" timeout=120
    output_limit="1 MiB" ````; see `CellOptions`. The repository's
    ``jupytext.toml`` keeps these keys when Jupyter saves a note.

Front matter
    ``title`` (required), ``date``, ``categories``, ``tags``, ``description``
    and ``execute: {timeout: SECONDS, memory_limit: "8 GiB",
    output_limit: "1 MiB"}``; Hexo's keys and ``jupyter`` are ignored; anything
    else is an error.

Failures
    An exception, a timeout, a dead process, an undeclared warning (warnings are
    recorded with the "always" filter, and log records of level WARNING that no
    handler takes count as `LoggedWarning`), a declared exception or warning
    that did not occur, a figure without alt text, a memory address in text
    output, a blocked write into the repository, a file that is not UTF-8 (the
    byte offset is given; a byte order mark and CRLF line ends are accepted),
    invalid front matter or a bad fence: each is a `NoteError` with the note's
    path, the line in the ``.md`` file, the cell, the traceback with note frames
    written as ``notebooks/x.md:LINE`` and a fix. Third-party warnings may be
    allowed by `AllowedWarning` entries, each with its reason.

Examples
    A ```` ```pycon ```` fence holds ``>>>`` examples, as a reader would type
    them into ``python``; the page shows the fence as written. Each fence runs
    with doctest in a fresh process of its own, forked from the same
    forkserver and in parallel with the notes, in the note's folder and from an
    empty namespace: never in the note's process, so the note's imports,
    monkeypatches and ``np.set_printoptions`` do not reach it. `run_examples`
    runs the docstrings of ``.py`` files the same way, one process per
    docstring, with the root as working folder and the folder above the
    module's package first on ``sys.path`` (as a session started there would
    import it). Output is compared by doctest's `OutputChecker` with no option flag, so
    ELLIPSIS or NORMALIZE_WHITESPACE apply only where an example asks with a
    directive (``# doctest: +ELLIPSIS``). A mismatch is a `NoteError` of kind
    ``example`` at the line of the ``>>>`` in the ``.md`` or ``.py`` file, with
    the example's source, Expected and Got.

Cache
    With a `NoteCache` (`open_cache`), a note or module whose text and inputs
    did not change since it last passed is not run: its result is read from
    ``.cache/notes/``. The inputs are the engine's source, Python, the result
    settings and font files, and everything the run read inside the root, as
    the note process recorded it (modules such as ``actlib/*.py`` and data
    files, by SHA-256), plus the versions of the distributions whose modules
    it loaded. Failed, timed-out or interrupted runs are never cached.
    `NoteRunner.executed` lists what ran; ``extra.notes.cache: false`` or
    ``NOTEEXEC_CACHE=0`` turns the cache off.

Figures
    Inline SVG in the page (not separate files): matplotlib figures still open
    after a cell (``plt.show()`` not needed, and harmless) are drawn and closed.
    Text is drawn as paths from DejaVu Sans with Noto Sans SC (the ``fonts``
    file) as fallback for Chinese; axes and text use ``currentColor`` so one SVG
    suits the light and the dark palette; ids are unique on a page and the SVG
    is byte-identical between builds. The ``alt`` option becomes ``role="img"``,
    ``aria-label`` and ``<title>``. ``notes.mplstyle`` holds the style, and the
    IPython extension `noteexec.ipython` gives JupyterLab the same figures.

Math
    Prose math follows Jupyter's rules (``$…$``, ``$$…$$``, ``\\$``); display
    math glued to text is moved into its own block for pymdownx.arithmatex, and
    `NoteResult.formulas` lists every formula so that `find_lost_formulas` can
    check the rendered page.
"""

from __future__ import annotations

from noteexec._cache import (
    CACHE_DIR,
    ENVIRONMENT_VARIABLE,
    NoteCache,
    cache_enabled,
    open_cache,
)
from noteexec._errors import ErrorKind, ForkserverError, LoggedWarning, NoteError, OptionsError
from noteexec._examples import EXAMPLE_LANGUAGE, ExampleBlock, ExampleResult, module_name
from noteexec._frontmatter import ExecuteOptions, FrontMatter
from noteexec._math import Formula, find_lost_formulas
from noteexec._options import AllowedWarning, ExecutionOptions
from noteexec._parse import CellOptions, CodeCell, Note, parse_note
from noteexec._render import render_error_panel
from noteexec._result import NoteResult
from noteexec._runner import NoteRunner

__all__ = [
    "CACHE_DIR",
    "ENVIRONMENT_VARIABLE",
    "EXAMPLE_LANGUAGE",
    "AllowedWarning",
    "CellOptions",
    "CodeCell",
    "ErrorKind",
    "ExampleBlock",
    "ExampleResult",
    "ExecuteOptions",
    "ExecutionOptions",
    "ForkserverError",
    "Formula",
    "FrontMatter",
    "LoggedWarning",
    "Note",
    "NoteCache",
    "NoteError",
    "NoteResult",
    "NoteRunner",
    "OptionsError",
    "cache_enabled",
    "find_lost_formulas",
    "module_name",
    "open_cache",
    "parse_note",
    "render_error_panel",
]

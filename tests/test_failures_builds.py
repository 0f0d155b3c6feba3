"""Bad notes in real MkDocs builds: one build reports them all, loses nothing, leaves nothing.

The fixture site tests/data/failures/ has one failing note per case under notebooks/fail/ and
notes that must pass under notebooks/ok/. This module builds a copy once and checks, per case,
the exit status and the message, then for the whole build that no source file changed, that
the cache holds only passing notes and that no process outlived it. It serves the same copy
once with ``mkdocs serve`` (every failing page shows its error panel, and the server keeps
responding), and builds the passing notes alone to check their pages.
Ctrl-C, two builds sharing one cache and broken links get sites of their own.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from noteexec import NoteResult

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "data" / "failures"
CACHE_ENTRIES = Path(".cache") / "notes"
NOTO_SANS_SC = (
    REPO / "node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"
)
LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR) +-  ", re.MULTILINE)

pytestmark = pytest.mark.slow

# The note written in GB18030, as an editor set to a Chinese ANSI code page saves it. Its
# first byte that is not ASCII is the first byte that is not valid UTF-8.
GBK_PREFIX = "---\ntitle: GBK\n---\n\n"
GBK_NOTE = GBK_PREFIX + "这篇笔记按 GBK 保存。\n"
GBK_FIRST_BYTE = GBK_NOTE.encode("gb18030")[len(GBK_PREFIX)]


@dataclass(frozen=True)
class Case:
    """Expected content of a failing note's message.

    Attributes
    ----------
    errors
        One (line, text) per error: the error's first line must read
        ``notebooks/fail/<name>.md:<line>: ...<text>...``; the line is a regular expression.
    details
        Text that must occur in the note's part of the log (traceback, fix).
    """

    errors: Sequence[tuple[str, str]]
    details: Sequence[str] = ()


FAILING = {
    "syntax": Case([("9", "cell 1 raised SyntaxError")], ["Fix: correct the syntax at line 9"]),
    "helper": Case(
        [("13", "cell 2 raised ValueError: cannot scale 0.0: it is zero")],
        [
            "  notebooks/fail/helper.md:13 (cell 2), in <module>\n    result = normalise(values)",
            "  notebooks/fail/deep_helper.py:14, in check\n    raise ValueError(",
        ],
    ),
    # SIGALRM interrupts the loop at whichever of its two lines runs.
    "loop": Case([("1[12]", "cell 1 timed out after 2 s")], ["execute.timeout"]),
    "sys-exit": Case(
        [("10", "cell 1 raised SystemExit: 3")],
        ["Fix: a note must not end its own process: remove the exit() or sys.exit() call"],
    ),
    "os-exit": Case([("7", "the note process exited with status 7 while running cell 1")]),
    "crash": Case(
        [("10", "the note process was killed by signal SIGSEGV while running cell 1")],
        ["  notebooks/fail/crash.md:10 (cell 1), in <module>"],
    ),
    "memory": Case(
        [("14", "cell 1 ran out of memory (the note's memory limit is 2 GiB, set as RLIMIT_AS)")],
        ['raise the limit with execute.memory_limit in the front matter, e.g. memory_limit: "8'],
    ),
    "memory-default": Case(
        [("12", "cell 1 ran out of memory (the note's memory limit is 4 GiB, set as RLIMIT_AS)")],
        ["Unable to allocate 128. GiB"],
    ),
    "write-tracked": Case(
        [
            ("10", "cell 1 tried to change notebooks/ok/data/table.csv in the repository (open"),
            ("17", "cell 2 tried to change notebooks/ok/data/table.csv in the repository (delete)"),
            ("21", "cell 3 tried to change notebooks/ok/data/table.csv in the repository (rename)"),
        ],
        ["Fix: a note must leave the repository as it found it"],
    ),
    "write-new": Case(
        [("13", "cell 1 tried to change notebooks/fail/result.csv in the repository")],
        ["tempfile.TemporaryDirectory()"],
    ),
    "import-typo": Case(
        [("8", "cell 1 raised ModuleNotFoundError: No module named 'deep_helpr'")],
        [
            "Fix: correct the name: did you mean 'deep_helper'? It is a module of this "
            "repository (notebooks/fail/deep_helper.py)."
        ],
    ),
    "import-missing": Case(
        [("8", "cell 1 raised ModuleNotFoundError: No module named 'sklearn'")],
        [
            "If the note needs the package scikit-learn, add it to requirements.in, run "
            "`uv pip compile -q requirements.in --generate-hashes --python-version 3.11 -o "
            "requirements.txt`, then `make setup`"
        ],
    ),
    "undeclared-warning": Case(
        [("10", "cell 1 emitted 1 undeclared warning")],
        ["RuntimeWarning: overflow encountered in exp", 'warns="RuntimeWarning"'],
    ),
    "missing-warning": Case(
        [("7", 'cell 1 declares warns="RuntimeWarning" but emitted no such warning')]
    ),
    "missing-exception": Case(
        [("7", 'cell 1 declares raises="ValueError" but raised no such exception')]
    ),
    "math-lost": Case(
        [("10", "inline formula does not reach the page as math: y")],
        ["no math inside raw HTML"],
    ),
    "empty": Case([("1", "the note is empty")], ["title: Sigmoid 函数"]),
    "front-matter": Case(
        [("3", "invalid YAML in front matter: expected ',' or ']'")],
        ["while parsing a flow sequence that starts at line 2"],
    ),
    "unclosed-front-matter": Case(
        [("1", "the YAML front matter opened at line 1 is never closed")]
    ),
    "invalid-utf8": Case(
        [
            (
                "5",
                f"the file is not valid UTF-8: byte 0x{GBK_FIRST_BYTE:02x} at byte offset "
                f"{len(GBK_PREFIX)} (line 5, byte 1 of the line)",
            )
        ],
        ["save the file as UTF-8"],
    ),
}

PASSING = [
    "clean",
    "encoding-bom",
    "encoding-crlf",
    "prose",
    "中文目录/激活函数",
    "data",
    "output",
    "markup",
    "figures",
    "math",
    "patch",
    "isolation",
    "daemon",
]


# Processes


@dataclass
class ProcessWatcher:
    """Record every descendant of a process while it runs, from /proc.

    A process counts as left behind when, after the watched process ended, one with the same
    id and start time still exists (running or as a zombie).
    """

    pid: int
    seen: dict[int, tuple[int, str]] = field(default_factory=dict)
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.watch, daemon=True)
        thread.start()
        return thread

    def watch(self) -> None:
        while not self.stopped.is_set():
            self.record()
            time.sleep(0.05)

    def record(self) -> None:
        table = process_table()
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in table.items():
            children.setdefault(parent, []).append(pid)
        pending = list(children.get(self.pid, []))
        while pending:
            pid = pending.pop()
            if pid in table and pid not in self.seen:
                self.seen[pid] = (table[pid][1], command_line(pid))
            pending.extend(children.get(pid, []))

    def left_behind(self, within: float = 5.0) -> list[str]:
        """Return the command lines of recorded processes that still exist after `within` s."""
        deadline = time.monotonic() + within
        while True:
            alive = [
                command
                for pid, (started, command) in self.seen.items()
                if start_time(pid) == started
            ]
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.1)


def process_table() -> dict[int, tuple[int, int]]:
    """Return {pid: (parent pid, start time)} of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None:
                table[int(entry)] = (int(fields[1]), int(fields[19]))
    return table


def stat_fields(pid: int) -> list[str] | None:
    """Return the fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def start_time(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[19]) if fields is not None else None


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


# Builds


@dataclass
class Build:
    """A finished ``mkdocs build`` of a site copy."""

    site: Path
    out: Path
    status: int
    log: str
    watcher: ProcessWatcher


def mkdocs_env() -> dict[str, str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1735689600"}
    env.pop("NOTEEXEC_CACHE", None)
    return env


def restore_default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_mkdocs(site: Path, *arguments: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "mkdocs", *arguments],
            cwd=site,
            env=mkdocs_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A shell starts background jobs with SIGINT ignored, and the child would inherit
            # that. The interrupt tests need MkDocs to receive Ctrl-C as from a terminal.
            preexec_fn=restore_default_sigint,
        )


def build(site: Path, out: Path, *flags: str, timeout: float = 300) -> Build:
    """Run ``mkdocs build`` in `site` into `out`, recording the processes it starts."""
    log = out.with_name(out.name + ".log")
    process = start_mkdocs(site, "build", "-d", str(out), *flags, log=log)
    watcher = ProcessWatcher(process.pid)
    thread = watcher.start()
    try:
        status = process.wait(timeout=timeout)
    finally:
        watcher.stopped.set()
        thread.join()
        stop(process)
    return Build(site, out, status, log.read_text(encoding="utf-8", errors="replace"), watcher)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End `process` and its process group if it still runs (Ctrl-C first, then SIGKILL)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def copy_site(destination: Path) -> Path:
    """Copy the fixture site, point its repository paths here and add the byte-level notes."""
    shutil.copytree(FIXTURE, destination)
    config = destination / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("../../../", f"{REPO.as_posix()}/")
    config.write_text(text, encoding="utf-8")

    ok = destination / "notebooks" / "ok"
    clean = (ok / "clean.md").read_bytes()
    (ok / "encoding-bom.md").write_bytes(b"\xef\xbb\xbf" + clean)
    (ok / "encoding-crlf.md").write_bytes(clean.replace(b"\n", b"\r\n"))
    (destination / "notebooks" / "fail" / "invalid-utf8.md").write_bytes(GBK_NOTE.encode("gb18030"))
    return destination


def tree_digest(root: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under `root` except build outputs."""
    outputs = {".cache", "__pycache__"}
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not outputs.intersection(path.relative_to(root).parts)
    }


def note_block(log: str, name: str) -> str:
    """Return the part of the log that reports the note ``notebooks/fail/<name>.md``."""
    start = log.find(f"actnotes: notebooks/fail/{name}.md failed with")
    assert start >= 0, f"no error for notebooks/fail/{name}.md in the log:\n{log}"
    following = LOG_LINE.search(log, log.index("\n", start))
    return log[start : following.start() if following else len(log)]


def cache_entries(site: Path) -> list[Path]:
    return sorted((site / CACHE_ENTRIES).rglob("*.json"))


def cached_notes(site: Path) -> set[str]:
    folder = site / CACHE_ENTRIES / "note"
    return {
        path.relative_to(folder).as_posix().removesuffix(".json") for path in cache_entries(site)
    }


@dataclass
class FailingBuild:
    build: Build
    before: dict[str, str]
    after: dict[str, str]


@pytest.fixture(scope="module")
def failing_build(tmp_path_factory: pytest.TempPathFactory) -> FailingBuild:
    """Build the whole fixture site once: every failing note next to the passing ones."""
    base = tmp_path_factory.mktemp("failures")
    site = copy_site(base / "site")
    before = tree_digest(site)
    finished = build(site, base / "out")
    return FailingBuild(finished, before, tree_digest(site))


def test_build_reports_every_failing_note(failing_build: FailingBuild) -> None:
    log = failing_build.build.log
    assert failing_build.build.status == 1, log
    assert f"ERROR   -  {len(FAILING)} notes failed: " in log
    failed = log.split(" notes failed: ")[1].split(". The errors")[0].split(", ")
    assert failed == sorted(f"notebooks/fail/{name}.md" for name in FAILING)
    assert "Aborted with a BuildError!" in log
    assert "site-packages/mkdocs/" not in log, "MkDocs printed a Python traceback of its own"


@pytest.mark.parametrize("name", sorted(FAILING))
def test_failing_note_message(failing_build: FailingBuild, name: str) -> None:
    block = note_block(failing_build.build.log, name)
    case = FAILING[name]

    assert f"failed with {len(case.errors)} error(s):" in block.splitlines()[0]
    for line, text in case.errors:
        pattern = rf"^notebooks/fail/{re.escape(name)}\.md:{line}: [^\n]*{re.escape(text)}"
        assert re.search(pattern, block, re.MULTILINE), block
    for detail in case.details:
        assert detail in block, block
    assert block.count("\nFix: ") == len(case.errors), block


@pytest.mark.parametrize("name", sorted(FAILING))
def test_failing_note_not_cached(failing_build: FailingBuild, name: str) -> None:
    folder = failing_build.build.site / CACHE_ENTRIES / "note" / "notebooks" / "fail"
    assert not (folder / f"{name}.md.json").exists()


def test_passing_notes_cached(failing_build: FailingBuild) -> None:
    site = failing_build.build.site
    assert cached_notes(site) == {f"notebooks/ok/{name}.md" for name in PASSING}


def test_cache_entries_parse(failing_build: FailingBuild) -> None:
    site = failing_build.build.site
    entries = cache_entries(site)
    assert len(entries) == len(PASSING)
    for entry_file in entries:
        entry = json.loads(entry_file.read_text(encoding="utf-8"))
        result = NoteResult.from_json(entry["result"])
        assert result.ok, entry_file
        assert entry_file.as_posix().endswith(f"/note/{result.path}.json")
    leftovers = [path for path in (site / CACHE_ENTRIES).rglob("*") if path.suffix == ".tmp"]
    assert leftovers == []


def test_source_files_unchanged(failing_build: FailingBuild) -> None:
    assert failing_build.after == failing_build.before
    fail = failing_build.build.site / "notebooks" / "fail"
    assert not (fail / "result.csv").exists()
    assert not (failing_build.build.site / "notebooks" / "ok" / "data" / "moved.csv").exists()


def test_no_process_left_behind(failing_build: FailingBuild) -> None:
    watcher = failing_build.build.watcher
    commands = [command for _, command in watcher.seen.values()]
    # The check can fail: it saw the forkserver and the daemon a note started.
    assert any("noteexec._forkserver" in command for command in commands), commands
    assert "sleep 300" in commands
    assert watcher.left_behind() == []


def test_docs_code_never_runs(failing_build: FailingBuild) -> None:
    base = failing_build.build.site.parent
    assert list(base.rglob("docs-fence-ran.txt")) == []
    assert not (REPO / "docs-fence-ran.txt").exists()


# Serve: every failing page shows its panel, and the server keeps responding.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(port: int, path: str) -> tuple[int, str]:
    """Return the status and body of GET `path`, or (0, "") when the server does not respond."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""
    finally:
        connection.close()


def note_url(name: str) -> str:
    return quote(f"/{name}/")


@dataclass
class Served:
    pages: dict[str, tuple[int, str]]
    alive_after: bool
    home_after: int
    log: str
    before: dict[str, str]
    after: dict[str, str]
    left_behind: list[str]


@pytest.fixture(scope="module")
def served(failing_build: FailingBuild, tmp_path_factory: pytest.TempPathFactory) -> Served:
    """Serve the failing build's copy, fetch every page, then stop the server."""
    site = failing_build.build.site
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    before = tree_digest(site)
    process = start_mkdocs(site, "serve", "-a", f"127.0.0.1:{port}", log=log)
    watcher = ProcessWatcher(process.pid)
    thread = watcher.start()
    try:
        deadline = time.monotonic() + 180
        while fetch(port, "/")[0] != 200:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.5)
        urls = [f"fail/{name}" for name in FAILING] + [f"ok/{name}" for name in PASSING]
        pages = {url: fetch(port, note_url(url)) for url in urls}
        alive_after = process.poll() is None
        home_after = fetch(port, "/")[0]
    finally:
        stop(process)
        watcher.stopped.set()
        thread.join()
    return Served(
        pages,
        alive_after,
        home_after,
        log.read_text(encoding="utf-8", errors="replace"),
        before,
        tree_digest(site),
        watcher.left_behind(),
    )


@pytest.mark.parametrize("name", sorted(FAILING))
def test_serve_shows_panel(served: Served, name: str) -> None:
    status, page = served.pages[f"fail/{name}"]
    assert status == 200
    assert 'class="admonition failure notes-error-panel"' in page
    line = FAILING[name].errors[0][0]
    assert re.search(rf"notebooks/fail/{re.escape(name)}\.md:{line}: ", page), page[:3000]


def test_serve_answers_after_failures(served: Served) -> None:
    assert served.alive_after, served.log
    assert served.home_after == 200
    assert "site-packages/mkdocs/" not in served.log


@pytest.mark.parametrize("name", PASSING)
def test_serve_passing_page_without_panel(served: Served, name: str) -> None:
    status, page = served.pages[f"ok/{name}"]
    assert status == 200, name
    assert "notes-error-panel" not in page


def test_serve_leaves_sources_and_processes(served: Served) -> None:
    assert served.after == served.before
    assert served.left_behind == []


# The passing notes alone, from the cache the failing build filled. Not --strict: the
# truncated output of ok/output.md is a warning, which --strict would turn into a failure.


@pytest.fixture(scope="module")
def passing_build(failing_build: FailingBuild, tmp_path_factory: pytest.TempPathFactory) -> Build:
    base = tmp_path_factory.mktemp("passing")
    site = base / "site"
    shutil.copytree(
        failing_build.build.site, site, ignore=shutil.ignore_patterns("fail", "__pycache__")
    )
    return build(site, base / "out")


def page(built: Build, name: str) -> str:
    return (built.out / name / "index.html").read_text(encoding="utf-8")


def article(built: Build, name: str) -> str:
    match = re.search(
        r'<article class="md-content__inner md-typeset">(.*?)</article>',
        page(built, name),
        re.DOTALL,
    )
    assert match is not None
    return match.group(1)


def test_passing_notes_build(passing_build: Build) -> None:
    assert passing_build.status == 0, passing_build.log
    assert f"Ran 0 of {len(PASSING)} notes" in passing_build.log
    warnings = re.findall(r"^WARNING +-  (.*)$", passing_build.log, re.MULTILINE)
    assert warnings == [
        "actnotes: notebooks/ok/output.md:9: cell 1 printed 9.8 MiB of text; the page shows "
        'the first 128 KiB. Print less, or raise the limit with output_limit="1 MiB" on the '
        "fence or execute.output_limit in the front matter."
    ]
    assert passing_build.watcher.left_behind() == []


def test_bom_and_crlf_pages_equal_clean(passing_build: Build) -> None:
    clean = article(passing_build, "ok/clean")
    assert "<h1 id=" in clean
    assert article(passing_build, "ok/encoding-bom") == clean
    assert article(passing_build, "ok/encoding-crlf") == clean


def test_chinese_path_page_built(passing_build: Build) -> None:
    assert "工作目录： 中文目录" in page(passing_build, "ok/中文目录/激活函数")
    home = page(passing_build, "")
    assert (
        'href="ok/%E4%B8%AD%E6%96%87%E7%9B%AE%E5%BD%95/%E6%BF%80%E6%B4%BB%E5%87%BD%E6%95%B0/"'
        in home
    )


def test_large_output_truncated(passing_build: Build) -> None:
    output = page(passing_build, "ok/output")
    assert "输出过长，已截断：这个单元共输出 " in output
    assert "页面只显示前 128 KiB" in output
    assert "99999 激活函数" not in output
    # 128 KiB of text plus the page around it; the note printed about 10 MB.
    assert len(output.encode("utf-8")) < 256 * 1024


def test_text_output_cannot_inject_markup(passing_build: Build) -> None:
    markup = page(passing_build, "ok/markup")
    for channel in ("stdout", "stderr", "repr", "error", "warning"):
        assert f'&lt;script&gt;alert("{channel}")&lt;/script&gt;' in markup, channel
    assert "<script>alert" not in markup
    assert "<img src=x" not in markup


def test_figures_closed_after_cell(passing_build: Build) -> None:
    figures = page(passing_build, "ok/figures")
    assert figures.count('<svg class="notes-figure"') == 25
    assert figures.count('role="img" aria-label="直线 ') == 25
    assert "open figures: []" in figures
    assert "More than 20 figures" not in figures


def test_patches_stay_in_their_note(passing_build: Build) -> None:
    assert "patched [0.33]" in page(passing_build, "ok/patch")
    assert "sigmoid(0) = 0.5 precision = 8" in page(passing_build, "ok/isolation")


def test_data_next_to_note_read(passing_build: Build) -> None:
    data = page(passing_build, "ok/data")
    assert "[{&#x27;x&#x27;: &#x27;-1.0&#x27;" in data or "[{'x': '-1.0'" in data
    assert "x,relu" in data


def test_every_formula_reaches_page(passing_build: Build) -> None:
    math = article(passing_build, "ok/math")
    # math.md: 4 inline formulas, one with spaces inside the dollars; 5 display ones (2 glued
    # to text, 2 $$ blocks, 1 environment).
    assert math.count('<span class="arithmatex">') == 4
    assert "\\( x + 1 \\)" in math
    assert math.count('<div class="arithmatex">') == 5
    assert "x &amp; x &gt; 0 \\\\" in math
    assert "\\begin{cases}" in math


def test_docs_page_code_shown_not_run(passing_build: Build) -> None:
    fences = page(passing_build, "fences")
    assert "docs-fence-ran.txt" in fences
    text = html.unescape(re.sub(r"<[^>]+>", "", fences))
    assert ">>> 1 + 1\n3" in text
    assert list(passing_build.site.parent.rglob("docs-fence-ran.txt")) == []


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(("--strict", "--verbose"), id="strict-verbose"),
        pytest.param(("--quiet",), id="quiet"),
    ],
)
def test_broken_link_in_note_fails(
    passing_build: Build, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    site = tmp_path / "site"
    shutil.copytree(passing_build.site, site)
    config = site / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "  /notebooks/fail/\n", "  /notebooks/fail/\n  /notebooks/ok/links.md\n"
        ),
        encoding="utf-8",
    )
    (site / "notebooks" / "ok" / "links.md").write_text(
        "---\ntitle: 链接\n---\n\n# 链接\n\n[缺失的笔记](missing.md)\n\n"
        "[缺失的锚点](clean.md#没有这一节)\n",
        encoding="utf-8",
    )

    finished = build(site, tmp_path / "out", *flags)

    assert finished.status != 0
    assert "notebooks/ok/links.md:7: broken link 'missing.md'" in finished.log
    assert "notebooks/ok/links.md:9: broken anchor '../clean/#没有这一节'" in finished.log
    assert "2 broken internal link(s)" in finished.log


# Ctrl-C and two builds at once, on small sites of their own

SMALL_HEADER = "---\ntitle: 小笔记\n---\n\n"


def small_site(root: Path, notes: dict[str, str]) -> Path:
    """Write a site with the notes hook, MkDocs' own theme and `notes` (name → text)."""
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("# 首页\n", encoding="utf-8")
    (root / "notebooks").mkdir()
    for name, text in notes.items():
        (root / "notebooks" / f"{name}.md").write_text(text, encoding="utf-8")
    config = (
        "site_name: 小站点\n"
        "docs_dir: docs\n"
        "theme: mkdocs\n"
        f"hooks:\n  - {REPO.as_posix()}/hooks/notes.py\n"
        "markdown_extensions:\n  - pymdownx.arithmatex:\n      generic: true\n"
        "extra:\n  notes:\n    timeout: 60\n"
        f"    fonts:\n      - {NOTO_SANS_SC.as_posix()}\n"
    )
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    return root


def fence(code: str, options: str = "") -> str:
    return f"```python{' ' + options if options else ''}\n{code}\n```\n\n"


def wait_for_file(path: Path, process: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while not path.exists():
        assert process.poll() is None, "the build ended before the note started"
        assert time.monotonic() < deadline, f"{path} did not appear within {within} s"
        time.sleep(0.05)


def test_interrupt_exits_130_and_caches_nothing(tmp_path: Path) -> None:
    # Outside the site: notes may not write into it. The note waits while `hold` exists.
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    code = (
        "import time\nfrom pathlib import Path\n\n"
        f"Path({str(started)!r}).touch()\n"
        f"while Path({str(hold)!r}).exists():\n    time.sleep(0.05)\n"
        'print("released")'
    )
    notes = {"holding": SMALL_HEADER + fence(code), "quick": SMALL_HEADER + fence("6 * 7")}
    site = small_site(tmp_path / "site", notes)
    log = tmp_path / "interrupted.log"

    process = start_mkdocs(site, "build", "-d", str(tmp_path / "out"), log=log)
    watcher = ProcessWatcher(process.pid)
    thread = watcher.start()
    try:
        wait_for_file(started, process, within=120)
        os.killpg(process.pid, signal.SIGINT)
        status = process.wait(timeout=60)
    finally:
        watcher.stopped.set()
        thread.join()
        stop(process)
    text = log.read_text(encoding="utf-8")

    assert status == 130, text
    assert "Interrupted while the notes ran; their processes are stopped, nothing cached" in text
    assert "site-packages/mkdocs/" not in text
    assert "Aborted!" not in text
    assert any("noteexec._forkserver" in command for _, command in watcher.seen.values())
    assert watcher.left_behind() == []
    assert [path for path in (site / ".cache").rglob("*") if path.is_file()] == []

    # The same notes, released: nothing of the interrupted run is reused.
    hold.unlink()
    again = build(site, tmp_path / "again")
    assert again.status == 0, again.log
    assert "Ran 2 of 2 notes in" in again.log
    assert "released" in (tmp_path / "again" / "holding" / "index.html").read_text("utf-8")


def test_interrupt_during_docstring_examples(tmp_path: Path) -> None:
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    site = small_site(tmp_path / "site", {})
    (site / "tools").mkdir()
    module = (
        '"""Wait while a file exists.\n\n'
        ">>> import time\n>>> from pathlib import Path\n"
        f">>> Path({str(started)!r}).touch()\n"
        f">>> while Path({str(hold)!r}).exists():\n...     time.sleep(0.05)\n"
        '"""\n'
    )
    (site / "tools" / "waiting.py").write_text(module, encoding="utf-8")
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("/hooks/notes.py\n", "/hooks/doctests.py\n")
    config.write_text(text + "    doctests:\n      - tools/*.py\n", encoding="utf-8")
    log = tmp_path / "interrupted.log"

    process = start_mkdocs(site, "build", "-d", str(tmp_path / "out"), log=log)
    watcher = ProcessWatcher(process.pid)
    thread = watcher.start()
    try:
        wait_for_file(started, process, within=120)
        os.killpg(process.pid, signal.SIGINT)
        status = process.wait(timeout=60)
    finally:
        watcher.stopped.set()
        thread.join()
        stop(process)
    text = log.read_text(encoding="utf-8")

    assert status == 130, text
    assert "Interrupted while the examples ran; their processes are stopped, nothing cached" in text
    assert watcher.left_behind() == []
    assert [path for path in (site / ".cache").rglob("*") if path.is_file()] == []


def test_two_builds_share_cache(tmp_path: Path) -> None:
    notes = {
        "table": SMALL_HEADER
        + "值域 $(0, 1)$。\n\n"
        + fence("import numpy as np\nnp.linspace(0, 1, 5)"),
        "figure": SMALL_HEADER
        + fence("import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0]);", 'alt="一条直线"'),
        "example": SMALL_HEADER + fence('print("例子")') + "```pycon\n>>> 2 ** 10\n1024\n```\n",
    }
    site = small_site(tmp_path / "site", notes)
    outputs = [tmp_path / "first", tmp_path / "second"]

    processes = [
        start_mkdocs(site, "build", "-d", str(out), log=out.with_suffix(".log")) for out in outputs
    ]
    statuses = [process.wait(timeout=300) for process in processes]

    logs = [out.with_suffix(".log").read_text(encoding="utf-8") for out in outputs]
    assert statuses == [0, 0], logs
    sites = [
        {
            path.relative_to(out).as_posix(): path.read_bytes()
            for path in sorted(out.rglob("*"))
            if path.is_file()
        }
        for out in outputs
    ]
    assert sites[0].keys() == sites[1].keys()
    assert [name for name in sites[0] if sites[0][name] != sites[1][name]] == []
    assert "table/index.html" in sites[0]

    entries = cache_entries(site)
    assert len(entries) == len(notes)
    for entry_file in entries:
        assert NoteResult.from_json(json.loads(entry_file.read_text("utf-8"))["result"]).ok
    assert [path for path in (site / CACHE_ENTRIES).rglob("*.tmp")] == []

    third = build(site, tmp_path / "third")
    assert third.status == 0, third.log
    assert f"Ran 0 of {len(notes)} notes" in third.log

"""hooks/notes.py in real MkDocs builds of the fixture site tests/data/notes_site/."""

from __future__ import annotations

import http.client
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "data" / "notes_site"
HEADER = "---\ntitle: 失败的笔记\n---\n\n"

pytestmark = pytest.mark.slow


def copy_site(tmp_path: Path) -> Path:
    """Copy the fixture site and point its repository paths at this checkout."""
    site = tmp_path / "notes_site"
    shutil.copytree(FIXTURE, site)
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("../../../", f"{REPO.as_posix()}/")
    config.write_text(text, encoding="utf-8")
    return site


def run_build(site: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(site / "site"), *flags],
        cwd=site,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def add_note(site: Path, name: str, text: str) -> None:
    (site / "notebooks" / f"{name}.md").write_text(text, encoding="utf-8")


def fence(code: str, options: str = "") -> str:
    return f"```python{' ' + options if options else ''}\n{code}\n```\n"


# name: (note text, line the message must give, fragment of the message)
FAILING_NOTES = {
    "exception": (HEADER + fence("x = 1\n1 / 0"), 7, "raised ZeroDivisionError"),
    "timeout": (HEADER + fence("import time\ntime.sleep(30)", "timeout=0.5"), 7, "timed out"),
    "dead": (HEADER + fence("import os\nos._exit(3)"), 5, "exited with status 3"),
    "warning": (HEADER + fence("import warnings\nwarnings.warn('x')"), 7, "undeclared warning"),
    "no_exception": (HEADER + fence("x = 1", 'raises="ValueError"'), 5, "raised no such"),
    "no_warning": (HEADER + fence("x = 1", 'warns="UserWarning"'), 5, "emitted no such"),
    "front_matter": ("---\ntitle: T\nauthour: me\n---\n", 3, "unknown front matter key"),
    "fence": (HEADER + "```\nbare\n```\n", 5, "fence without a language"),
    "math": (
        HEADER + "First $a$.\n\n<div>\nThen $x$ here.\n</div>\n",
        8,
        "does not reach the page",
    ),
    "alt": (
        HEADER + fence("import matplotlib.pyplot as plt\nplt.plot([1]);"),
        5,
        "alt text for 0",
    ),
}


def test_fixture_site_builds(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    completed = run_build(site, "--strict")
    assert completed.returncode == 0, completed.stderr
    assert "Ran 2 of 2 notes" in completed.stderr

    note = (site / "site" / "ok" / "index.html").read_text(encoding="utf-8")
    assert "<title>成功的笔记" in note
    assert note.count('<div class="arithmatex">') == 1
    assert '<span class="arithmatex">\\((0, 1)\\)</span>' in note
    assert 'role="img" aria-label="Sigmoid 曲线' in note
    assert '<a href="../guide/">指南</a>' in note
    assert 'src="../dot.svg"' in note
    assert "ValueError: invalid literal" in note
    assert "RuntimeWarning: overflow encountered in exp" in note
    assert "这段只显示" in note
    assert "import matplotlib.pyplot" not in note
    assert "notes-error-panel" not in note
    assert (site / "site" / "dot.svg").is_file()

    home = (site / "site" / "index.html").read_text(encoding="utf-8")
    assert '<a href="ok/">成功的笔记</a>' in home
    assert '<a href="extra/" class="md-nav__link">' in home
    extra = (site / "site" / "extra" / "index.html").read_text(encoding="utf-8")
    assert "来自子目录" in extra
    assert '<a href="../">首页</a>' in extra


def test_every_failing_note_reported_in_one_build(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    for name, (text, _, _) in FAILING_NOTES.items():
        add_note(site, name, text)

    completed = run_build(site)

    assert completed.returncode == 1
    log = completed.stderr
    for name, (_, line, fragment) in FAILING_NOTES.items():
        assert re.search(rf"notebooks/{name}\.md:{line}: [^\n]*{fragment}", log), name
    assert f"{len(FAILING_NOTES)} notes failed" in log
    assert "notebooks/ok.md" not in log.split("notes failed")[1]
    assert "Fix: " in log


def test_note_pages_identical_across_builds(tmp_path: Path) -> None:
    pages = []
    for attempt in range(2):
        site = copy_site(tmp_path / f"build{attempt}")
        completed = run_build(site)
        assert completed.returncode == 0, completed.stderr
        pages.append(
            [(site / "site" / name / "index.html").read_bytes() for name in ("ok", "extra")]
        )
    assert pages[0] == pages[1]


@pytest.mark.parametrize("flags", [(), ("--strict",), ("-v",), ("--strict", "-v"), ("-q",)])
def test_failure_exits_non_zero_with_any_flags(tmp_path: Path, flags: tuple[str, ...]) -> None:
    site = copy_site(tmp_path)
    add_note(site, "exception", FAILING_NOTES["exception"][0])
    completed = run_build(site, *flags)
    assert completed.returncode != 0
    assert "notebooks/exception.md:7: cell 1 raised ZeroDivisionError" in completed.stderr
    assert "  notebooks/exception.md:7 (cell 1), in <module>" in completed.stderr


def test_note_and_docs_page_with_same_url_rejected(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    add_note(site, "guide", HEADER + "Text\n")
    completed = run_build(site)
    assert completed.returncode == 1
    assert "docs/guide.md and notebooks/guide.md are both published as 'guide/'" in (
        completed.stderr
    )


def test_invalid_engine_option_rejected(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    config = site / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("timeout: 30", "timeout: soon"),
        encoding="utf-8",
    )
    completed = run_build(site)
    assert completed.returncode == 1
    assert "extra.notes" in completed.stderr
    assert "timeout: expected a positive number of seconds, got 'soon'" in completed.stderr


# Serve: the hook must not raise; the page shows the panel.


def hook_module(config_file: Path) -> tuple[MkDocsConfig, ModuleType]:
    config = load_config(config_file=str(config_file))
    modules = [module for name, module in config["hooks"].items() if name.endswith("notes.py")]
    return config, modules[0]


def test_serve_shows_panel_then_fix_rebuilds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = copy_site(tmp_path)
    add_note(site, "broken", HEADER + "Intro\n\n" + fence('raise ValueError("<b>bad</b>")'))
    config_file = site / "mkdocs.yml"
    page = site / "site" / "broken" / "index.html"

    config, hook = hook_module(config_file)
    hook.on_startup(command="serve", dirty=False)
    try:
        with caplog.at_level(logging.ERROR, logger="mkdocs.plugins.actnotes.notes"):
            build(config, serve_url="http://127.0.0.1:8000/")
        html = page.read_text(encoding="utf-8")
        assert 'class="admonition failure notes-error-panel"' in html
        assert html.index("notes-error-panel") < html.index("Intro")
        assert "notebooks/broken.md:8: cell 1 raised ValueError: &lt;b&gt;bad&lt;/b&gt;" in html
        assert "<b>bad</b>" not in html
        assert any("notebooks/broken.md:8" in record.getMessage() for record in caplog.records)

        add_note(site, "broken", HEADER + "Intro\n\n" + fence('print("fixed")'))
        config, hook = hook_module(config_file)
        build(config, serve_url="http://127.0.0.1:8000/")
        html = page.read_text(encoding="utf-8")
        assert "notes-error-panel" not in html
        assert "fixed" in html
    finally:
        hook.on_startup(command="build", dirty=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(port: int, path: str) -> str | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.read().decode("utf-8") if response.status == 200 else None
    except OSError:
        return None
    finally:
        connection.close()


def wait_for(port: int, path: str, text: str, within: float) -> str | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        page = fetch(port, path)
        if page is not None and text in page:
            return page
        time.sleep(0.3)
    return None


def test_serve_rebuilds_when_note_changes(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    add_note(site, "live", HEADER + fence('print("版本一")'))
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
            cwd=site,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_for(port, "/live/", "版本一", within=120) is not None, log_path.read_text()

        add_note(site, "live", HEADER + fence("1 / 0"))
        page = wait_for(port, "/live/", "notes-error-panel", within=120)
        assert page is not None
        assert server.poll() is None

        add_note(site, "live", HEADER + fence('print("版本二")'))
        page = wait_for(port, "/live/", "版本二", within=120)
        assert page is not None
        assert "notes-error-panel" not in page
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

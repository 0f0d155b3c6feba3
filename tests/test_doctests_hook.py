"""hooks/doctests.py and the examples of notes in real MkDocs builds of tests/data/doctest_site/."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "data" / "doctest_site"
MODULE = Path("notebooks") / "smallact" / "_functions.py"

pytestmark = pytest.mark.slow


def copy_site(tmp_path: Path, *, extra_notes: str = "") -> Path:
    """Copy the fixture site, point its repository paths at this checkout, add extra.notes keys."""
    site = tmp_path / "doctest_site"
    shutil.copytree(FIXTURE, site)
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("../../../", f"{REPO.as_posix()}/")
    config.write_text(text + extra_notes, encoding="utf-8")
    return site


def run_build(
    site: Path, *flags: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(site / "site"), *flags],
        cwd=site,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def drift(path: Path, old: str, new: str) -> int:
    """Replace the expected output `old` with `new`; return the 1-based line of the ``>>>``.

    The ``>>>`` is on the line before the expected output, whose 0-based index is that number.
    """
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == old)
    lines[index] = lines[index].replace(old, new)
    path.write_text("".join(lines), encoding="utf-8")
    return index


def test_fixture_site_builds(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    completed = run_build(site, "--strict")
    assert completed.returncode == 0, completed.stderr
    assert "Ran 2 of 2 notes" in completed.stderr
    assert "Ran the docstring examples of 2 of 2 modules" in completed.stderr
    page = (site / "site" / "logistic" / "index.html").read_text(encoding="utf-8")
    assert "[0.73 0.88]" in page
    assert "array([0.73105858, 0.88079708])" in page


@pytest.mark.parametrize("flags", [(), ("--strict",), ("-q",)])
def test_drifted_docstring_fails_build(tmp_path: Path, flags: tuple[str, ...]) -> None:
    site = copy_site(tmp_path)
    line = drift(site / MODULE, "np.float64(0.25)", "np.float64(0.2)")

    completed = run_build(site, *flags)

    assert completed.returncode == 1
    log = completed.stderr
    assert f"{MODULE.as_posix()}:{line}: example output differs from the expected output" in log
    assert (
        ">>> logistic_grad(0.0)\nExpected:\n    np.float64(0.2)\nGot:\n    np.float64(0.25)" in log
    )
    assert "docstring examples failed in 1 module: notebooks/smallact/_functions.py" in log


def test_drifted_note_example_fails_build(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    note = site / "notebooks" / "logistic.md"
    line = drift(note, "array([0.73105858, 0.88079708])", "array([0.73, 0.88])")

    completed = run_build(site)

    assert completed.returncode == 1
    log = completed.stderr
    assert f"notebooks/logistic.md:{line}: example output differs" in log
    assert "Expected:\n    array([0.73, 0.88])\nGot:\n    array([0.73105858, 0.88079708])" in log
    assert "1 note failed: notebooks/logistic.md" in log


def test_unmatched_pattern_rejected(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("notebooks/smallact/*.py", "smallact/*.py")
    config.write_text(text, encoding="utf-8")
    completed = run_build(site)
    assert completed.returncode == 1
    assert "extra.notes.doctests: 'smallact/*.py' matches no .py file" in completed.stderr


def test_parallel_build_equals_serial(tmp_path: Path) -> None:
    builds = []
    for jobs in (1, 2):
        site = copy_site(tmp_path / f"jobs{jobs}", extra_notes=f"    jobs: {jobs}\n")
        # A drifted example makes the note fail, so its error panel is compared too.
        drift(site / "notebooks" / "plain.md", "[1, 2, 3]", "[3, 2, 1]")
        completed = run_build(site, env={"NOTEEXEC_CACHE": "0", "SOURCE_DATE_EPOCH": "0"})
        assert completed.returncode == 1
        assert "Ran 2 of 2 notes" in completed.stderr
        builds.append(
            {
                path.relative_to(site / "site").as_posix(): path.read_bytes()
                for path in sorted((site / "site").rglob("*"))
                if path.is_file()
            }
        )
    assert builds[0].keys() == builds[1].keys()
    assert [name for name in builds[0] if builds[0][name] != builds[1][name]] == []


# Serve: the hooks must not raise; the API page shows the panel.


def hooks_of(config: MkDocsConfig) -> list[ModuleType]:
    return list(config["hooks"].values())


def test_serve_shows_panels_for_drift(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    site = copy_site(tmp_path)
    line = drift(site / MODULE, "np.float64(0.25)", "np.float64(0.2)")
    note_line = drift(
        site / "notebooks" / "logistic.md", "array([0.73105858, 0.88079708])", "array([0.7])"
    )
    config = load_config(config_file=str(site / "mkdocs.yml"))
    hooks = hooks_of(config)
    for hook in hooks:
        hook.on_startup(command="serve", dirty=False)
    try:
        with caplog.at_level(logging.ERROR, logger="mkdocs.plugins.actnotes.doctests"):
            build(config, serve_url="http://127.0.0.1:8000/")
    finally:
        for hook in hooks:
            hook.on_startup(command="build", dirty=False)

    api = (site / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert 'class="admonition failure notes-error-panel"' in api
    assert "本页文档字符串中的示例没有通过构建检查" in api
    assert f"{MODULE.as_posix()}:{line}: example output differs" in api
    note = (site / "site" / "logistic" / "index.html").read_text(encoding="utf-8")
    assert f"notebooks/logistic.md:{note_line}: example output differs" in note
    assert MODULE.as_posix() not in note
    home = (site / "site" / "index.html").read_text(encoding="utf-8")
    assert "notes-error-panel" not in home
    assert any(f"{MODULE.as_posix()}:{line}" in record.getMessage() for record in caplog.records)

"""The note cache in real MkDocs builds of tests/data/doctest_site/, counted from the build log."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "data" / "doctest_site"
ENTRIES = Path(".cache") / "notes"

pytestmark = pytest.mark.slow


def copy_site(tmp_path: Path) -> Path:
    """Copy the fixture site and point its repository paths at this checkout."""
    site = tmp_path / "doctest_site"
    shutil.copytree(FIXTURE, site)
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("../../../", f"{REPO.as_posix()}/")
    config.write_text(text, encoding="utf-8")
    return site


def run_build(site: Path, *flags: str, cache: str | None = None) -> str:
    """Build the site; return the log after checking that the build passed."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("NOTEEXEC_CACHE", None)
    if cache is not None:
        env["NOTEEXEC_CACHE"] = cache
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(site / "site"), *flags],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stderr


def counts(log: str) -> tuple[int, int]:
    """Return how many notes and how many modules the build ran."""
    notes = re.search(r"Ran (\d+) of \d+ notes", log)
    modules = re.search(r"Ran the docstring examples of (\d+) of \d+ modules", log)
    assert notes is not None, log
    assert modules is not None, log
    return int(notes.group(1)), int(modules.group(1))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_rebuild_runs_nothing(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    assert counts(run_build(site, "--strict")) == (2, 2)
    assert counts(run_build(site, "--strict")) == (0, 0)
    pages = {
        name: (site / "site" / name / "index.html").read_bytes() for name in ("logistic", "plain")
    }
    fresh = copy_site(tmp_path / "fresh")
    run_build(fresh, "--strict")
    for name, page in pages.items():
        assert (fresh / "site" / name / "index.html").read_bytes() == page, name


def test_edits_rerun_only_dependents(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    run_build(site)

    edit(site / "notebooks" / "plain.md", "sum(range(4))", "sum(range(5))")
    assert counts(run_build(site)) == (1, 0)

    edit(site / "notebooks" / "smallact" / "_functions.py", "without overflow.", "safely.")
    log = run_build(site, "-v")
    assert counts(log) == (1, 2)
    assert "notebooks/logistic.md: cache miss: notebooks/smallact/_functions.py changed" in log
    assert "notebooks/plain.md: from the cache" in log


def test_version_change_reruns_all(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    run_build(site)
    # Record an older numpy in every entry, as if numpy was upgraded since.
    for entry_file in (site / ENTRIES).rglob("*.json"):
        entry = json.loads(entry_file.read_text(encoding="utf-8"))
        assert "numpy" in entry["distributions"]
        entry["distributions"]["numpy"] = "0.0"
        entry_file.write_text(json.dumps(entry), encoding="utf-8")

    log = run_build(site, "-v")

    assert counts(log) == (2, 2)
    assert "notebooks/plain.md: cache miss: numpy changed (0.0 → " in log


@pytest.mark.parametrize("switch", ["environment", "option"])
def test_cache_turned_off(tmp_path: Path, switch: str) -> None:
    site = copy_site(tmp_path)
    if switch == "option":
        config = site / "mkdocs.yml"
        config.write_text(config.read_text(encoding="utf-8") + "    cache: false\n")
    cache = "0" if switch == "environment" else None
    run_build(site, cache=cache)
    assert counts(run_build(site, cache=cache)) == (2, 2)
    assert not (site / ENTRIES).exists()


def test_truncated_entry_warned_then_rewritten(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    run_build(site)
    entry = site / ENTRIES / "note" / "notebooks" / "plain.md.json"
    text = entry.read_text(encoding="utf-8")
    entry.write_text(text[: len(text) // 2], encoding="utf-8")

    log = run_build(site)

    assert counts(log) == (1, 0)
    assert re.search(rf"WARNING +-  actnotes: corrupt cache entry {re.escape(str(entry))} ", log)
    assert counts(run_build(site, "--strict")) == (0, 0)

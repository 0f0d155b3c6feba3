"""The two project commands: what `make test` runs, the environment make sets, and .ci/run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sitetools import REPO

# Variables through which an outer `make test PYTEST_ARGS=...` would reach the make under test.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTEST_ARGS", "SOURCE_DATE_EPOCH")


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in MAKE_VARIABLES}
    env.update(extra)
    return env


def make(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


def make_variable(database: str, name: str) -> str:
    """Return the value of ``name`` in the output of ``make -p``."""
    match = re.search(rf"^{name} :?= (.*)$", database, re.MULTILINE)
    assert match is not None, f"make -p defines no {name}"
    return match.group(1)


def test_make_test_runs_checks_in_order() -> None:
    # -W marks the set-up stamps as up to date, so -n lists only the checks themselves.
    stamps = [".venv/.requirements-installed", ".venv/.project-installed"]
    stamps.append("node_modules/.package-lock.json")
    dry_run = make("-n", *(f"--old-file={stamp}" for stamp in stamps), "test")

    commands = [line.strip() for line in dry_run.splitlines() if line.startswith(".venv/bin/")]
    assert commands == [
        ".venv/bin/ruff check .",
        ".venv/bin/mypy",
        ".venv/bin/pytest",
        ".venv/bin/mkdocs build --strict",
    ]


def test_make_sets_build_environment() -> None:
    database = make("-pn", "help")
    commit_time = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%ct"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert make_variable(database, "NO_MKDOCS_2_WARNING") == "1"
    assert make_variable(database, "SOURCE_DATE_EPOCH") == commit_time


def test_make_epoch_fallback_outside_git(tmp_path: Path) -> None:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    env = clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path.parent))

    database = make("-pn", "help", cwd=tmp_path, env=env)

    # 2025-01-01T00:00:00Z
    assert make_variable(database, "SOURCE_DATE_EPOCH") == "1735689600"


def test_make_keeps_caller_epoch() -> None:
    env = clean_env(SOURCE_DATE_EPOCH="1234567890")

    database = make("-pn", "help", env=env)

    assert make_variable(database, "SOURCE_DATE_EPOCH") == "1234567890"


def test_ci_runs_readme_test_command() -> None:
    script = REPO / ".ci" / "run"
    text = script.read_text(encoding="utf-8")

    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    commands = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert text.rstrip().endswith("make test")
    assert any("apt-get install -y chromium" in line for line in commands)
    assert not any("playwright install" in line for line in commands)


@pytest.mark.parametrize("readme", ["README.md", "README.zh-CN.md"])
def test_readmes_name_both_commands(readme: str) -> None:
    text = (REPO / readme).read_text(encoding="utf-8")

    assert "make serve" in text
    assert "make test" in text

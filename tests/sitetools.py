"""Build MkDocs sites for the site tests: the real site and fixture sites under tests/data/."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"


def mkdocs_env(*, source_date_epoch: bool = True) -> dict[str, str]:
    """Return the environment the project's commands give MkDocs.

    With ``source_date_epoch=False`` the variable is removed, so a test sees what a plain
    ``mkdocs build`` outside ``make`` does.
    """
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    if not source_date_epoch:
        env.pop("SOURCE_DATE_EPOCH", None)
    return env


def run_mkdocs(
    config_file: Path,
    site_dir: Path,
    *flags: str,
    source_date_epoch: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``mkdocs build`` from the repository root and return the finished process.

    The repository root is the working directory because the search plugin reads its jieba
    dictionary relative to it.
    """
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--config-file",
        str(config_file),
        "--site-dir",
        str(site_dir),
        *flags,
    ]
    return subprocess.run(
        command,
        cwd=REPO,
        env=mkdocs_env(source_date_epoch=source_date_epoch),
        capture_output=True,
        text=True,
        check=False,
    )


def build_or_fail(config_file: Path, site_dir: Path, *flags: str, **options: bool) -> Path:
    """Build a site that must build, and fail the test with MkDocs' log if it does not."""
    completed = run_mkdocs(config_file, site_dir, *flags, **options)
    if completed.returncode != 0:
        pytest.fail(_failure_message(config_file, completed))
    return site_dir


def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the repository's site once per test session, with --strict."""
    site_dir, failure = _build_real_site(tmp_path_factory)
    if failure is not None:
        pytest.fail(failure)
    return site_dir


@functools.cache
def _build_real_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str | None]:
    # A failed build is cached too, so that every test using it fails at once.
    site_dir = tmp_path_factory.mktemp("real_site") / "site"
    completed = run_mkdocs(REPO / "mkdocs.yml", site_dir, "--strict")
    if completed.returncode != 0:
        return site_dir, _failure_message(REPO / "mkdocs.yml", completed)
    return site_dir, None


def _failure_message(config_file: Path, completed: subprocess.CompletedProcess[str]) -> str:
    return (
        f"mkdocs build -f {config_file} failed with exit status {completed.returncode}:\n"
        f"{completed.stderr}{completed.stdout}"
    )


def copy_fixture_site(name: str, destination: Path) -> Path:
    """Copy ``tests/data/<name>`` to ``destination`` and return its mkdocs.yml.

    Fixture configurations name the hooks as ``../../../hooks/<hook>.py``, relative to their
    place in the repository, so the copy names them by absolute path.
    """
    shutil.copytree(DATA / name, destination)
    config_file = destination / "mkdocs.yml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace("../../../hooks/", f"{REPO / 'hooks'}/"), encoding="utf-8")
    return config_file


def load_hook(name: str) -> ModuleType:
    """Import ``hooks/<name>.py`` as a fresh module, as MkDocs does."""
    path = REPO / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"actnotes_test_hook_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the module executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module

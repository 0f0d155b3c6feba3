"""Build MkDocs sites for the site tests: the real site and fixture sites under tests/data/."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"


@dataclass(frozen=True)
class BuiltSite:
    """A built site: its directory, and the address (site_url) it was built to be served at."""

    path: Path
    url: str


def mkdocs_env(*, source_date_epoch: bool = True, site_url: str | None = None) -> dict[str, str]:
    """Return the environment the project's commands give MkDocs.

    With ``source_date_epoch=False`` the variable is removed, as for a plain ``mkdocs build``
    outside ``make``. ``site_url`` sets the real site's ``site_url``.
    """
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env.pop("ACTNOTES_SITE_URL", None)
    if not source_date_epoch:
        env.pop("SOURCE_DATE_EPOCH", None)
    if site_url is not None:
        env["ACTNOTES_SITE_URL"] = site_url
    return env


def run_mkdocs(
    config_file: Path,
    site_dir: Path,
    *flags: str,
    source_date_epoch: bool = True,
    site_url: str | None = None,
    cwd: Path = REPO,
) -> subprocess.CompletedProcess[str]:
    """Run ``mkdocs build`` in ``cwd`` and return the finished process.

    The default working directory is the repository root, where the Makefile runs MkDocs.
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
        cwd=cwd,
        env=mkdocs_env(source_date_epoch=source_date_epoch, site_url=site_url),
        capture_output=True,
        text=True,
        check=False,
    )


def build_or_fail(
    config_file: Path,
    site_dir: Path,
    *flags: str,
    source_date_epoch: bool = True,
    site_url: str | None = None,
) -> Path:
    """Build a site that must build, and fail the test with MkDocs' log if it does not."""
    completed = run_mkdocs(
        config_file, site_dir, *flags, source_date_epoch=source_date_epoch, site_url=site_url
    )
    if completed.returncode != 0:
        pytest.fail(_failure_message(config_file, completed))
    return site_dir


# The real site's build in this test session, and MkDocs' log if it failed. A failed build is
# kept too, so that every test using it fails at once.
_real_site_build: list[tuple[BuiltSite, str | None]] = []


def real_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """Build the repository's site once per test session, with --strict.

    The site is built for a free port on 127.0.0.1, where the browser tests serve it, because
    Material's instant navigation only works at the address in sitemap.xml. SOURCE_DATE_EPOCH
    is removed from the environment, as for a plain ``mkdocs build``, and MkDocs runs outside
    the repository, so paths in mkdocs.yml must not depend on the working directory.
    """
    if not _real_site_build:
        build_dir = tmp_path_factory.mktemp("real_site")
        site = BuiltSite(path=build_dir / "site", url=f"http://127.0.0.1:{free_port()}/")
        completed = run_mkdocs(
            REPO / "mkdocs.yml",
            site.path,
            "--strict",
            source_date_epoch=False,
            site_url=site.url,
            cwd=build_dir,
        )
        failure = None
        if completed.returncode != 0:
            failure = _failure_message(REPO / "mkdocs.yml", completed)
        _real_site_build.append((site, failure))

    site, failure = _real_site_build[0]
    if failure is not None:
        pytest.fail(failure)
    return site


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now (another process may take it later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


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


def mentions(text: str, word: str) -> bool:
    """Return True if ``word`` occurs in ``text`` as a whole word, case-insensitively.

    A letter, digit or underscore next to it makes the occurrence part of a longer word, so
    PReLU, ReLU6 and relu_grad do not mention ReLU. Chinese characters and punctuation end a
    word, so 用ReLU替换 does.
    """
    pattern = rf"(?<![0-9A-Za-z_]){re.escape(word)}(?![0-9A-Za-z_])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def luminance(rgb: tuple[float, float, float]) -> float:
    """Return the WCAG 2 relative luminance of an sRGB colour with 0-255 channels."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """Return the WCAG 2 contrast ratio of two sRGB colours, from 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)

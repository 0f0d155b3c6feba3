"""hooks/mathjax.py and hooks/provenance.py, driven directly with stand-in configurations."""

from __future__ import annotations

import filecmp
import re
import subprocess
import tomllib
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy
import pytest
from mkdocs.exceptions import PluginError
from mkdocs.utils.yaml import yaml_load
from sitetools import REPO, load_hook

MATHJAX_ES5 = REPO / "node_modules" / "mathjax" / "es5"


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


# --- hooks/mathjax.py ---


def test_mathjax_config_script_loads_first() -> None:
    mathjax = load_hook("mathjax")
    with (REPO / "mkdocs.yml").open(encoding="utf-8") as file:
        scripts = yaml_load(file)["extra_javascript"]

    mathjax.on_config(SimpleNamespace(extra_javascript=scripts))

    assert scripts.index("javascripts/mathjax.js") < scripts.index("assets/mathjax/tex-chtml.js")


def test_mathjax_after_config_rejected() -> None:
    mathjax = load_hook("mathjax")
    config = SimpleNamespace(
        extra_javascript=["assets/mathjax/tex-chtml.js", "javascripts/mathjax.js"]
    )

    with pytest.raises(PluginError, match=re.escape("must list 'javascripts/mathjax.js' before")):
        mathjax.on_config(config)


def test_mathjax_without_config_rejected() -> None:
    mathjax = load_hook("mathjax")
    config = SimpleNamespace(extra_javascript=["assets/mathjax/tex-chtml.js"])

    with pytest.raises(PluginError, match=re.escape("must list 'javascripts/mathjax.js' before")):
        mathjax.on_config(config)


def test_mathjax_script_missing_rejected() -> None:
    mathjax = load_hook("mathjax")
    config = SimpleNamespace(extra_javascript=["javascripts/mathjax.js"])

    with pytest.raises(PluginError, match="no MathJax script under assets/mathjax/"):
        mathjax.on_config(config)


def test_mathjax_unknown_component_rejected() -> None:
    mathjax = load_hook("mathjax")
    config = SimpleNamespace(
        extra_javascript=["javascripts/mathjax.js", "assets/mathjax/tex-nothing.js"]
    )

    with pytest.raises(PluginError, match="MathJax has no file"):
        mathjax.on_config(config)


def test_mathjax_missing_names_npm_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mathjax = load_hook("mathjax")
    monkeypatch.setattr(mathjax, "MATHJAX_SOURCE", tmp_path / "node_modules" / "mathjax" / "es5")
    config = SimpleNamespace(
        extra_javascript=["javascripts/mathjax.js", "assets/mathjax/tex-chtml.js"]
    )

    with pytest.raises(PluginError, match=r"MathJax is not installed(.|\n)*run `npm ci`"):
        mathjax.on_config(config)


def test_mathjax_es5_copied_whole(tmp_path: Path) -> None:
    mathjax = load_hook("mathjax")
    site_dir = tmp_path / "site"

    mathjax.on_post_build(SimpleNamespace(site_dir=str(site_dir)))

    copied = site_dir / "assets" / "mathjax"
    expected = sorted(p.relative_to(MATHJAX_ES5) for p in MATHJAX_ES5.rglob("*") if p.is_file())
    assert sorted(p.relative_to(copied) for p in copied.rglob("*") if p.is_file()) == expected
    assert (copied / "input" / "tex" / "extensions" / "ams.js").is_file()
    _, mismatch, errors = filecmp.cmpfiles(
        MATHJAX_ES5, copied, [str(p) for p in expected], shallow=False
    )
    assert mismatch == []
    assert errors == []


# --- hooks/provenance.py ---


@pytest.fixture
def no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset SOURCE_DATE_EPOCH and restore it after the test, even if the hook sets it."""
    # Setting first makes monkeypatch record the original state, present or absent.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.delenv("SOURCE_DATE_EPOCH")


def provenance_config(config_dir: Path, copyright: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(config_file_path=str(config_dir / "mkdocs.yml"), copyright=copyright)


def actlib_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
    return version


def test_footer_names_versions_and_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    provenance = load_hook("provenance")
    config = provenance_config(REPO)

    provenance.on_config(config)

    assert f"actlib {actlib_version()}" in config.copyright
    assert f"NumPy {numpy.__version__}" in config.copyright
    assert f"Matplotlib {matplotlib.__version__}" in config.copyright
    assert f"<code>{git(REPO, 'log', '-1', '--format=%h')}</code>" in config.copyright


def test_footer_keeps_existing_copyright(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    provenance = load_hook("provenance")
    config = provenance_config(REPO, copyright="© 作者")

    provenance.on_config(config)

    assert config.copyright.startswith("© 作者<br>")
    assert "actlib" in config.copyright


@pytest.mark.usefixtures("no_source_date_epoch")
def test_footer_outside_git_names_no_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    provenance = load_hook("provenance")
    config = provenance_config(tmp_path)

    provenance.on_config(config)

    assert "<code>" not in config.copyright
    assert f"NumPy {numpy.__version__}" in config.copyright
    assert "SOURCE_DATE_EPOCH" not in provenance.os.environ


@pytest.fixture
def git_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a fresh git repository with one commit of mkdocs.yml at a fixed time."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2025-03-04T05:06:07+00:00")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mkdocs.yml").write_text("site_name: x\n", encoding="utf-8")
    git(repo, "init", "--quiet")
    git(repo, "add", "mkdocs.yml")
    git(repo, "commit", "--quiet", "-m", "Add mkdocs.yml")
    return repo


def test_footer_marks_uncommitted_changes(git_checkout: Path) -> None:
    (git_checkout / "mkdocs.yml").write_text("site_name: changed\n", encoding="utf-8")
    provenance = load_hook("provenance")
    config = provenance_config(git_checkout)

    provenance.on_config(config)

    assert f"<code>{git(git_checkout, 'log', '-1', '--format=%h')}</code>" in config.copyright
    assert "含未提交的修改" in config.copyright


def test_footer_ignores_untracked_files(git_checkout: Path) -> None:
    (git_checkout / "notes.txt").write_text("untracked\n", encoding="utf-8")
    provenance = load_hook("provenance")
    config = provenance_config(git_checkout)

    provenance.on_config(config)

    assert "<code>" in config.copyright
    assert "含未提交的修改" not in config.copyright


@pytest.mark.usefixtures("no_source_date_epoch")
def test_source_date_epoch_from_commit(git_checkout: Path) -> None:
    provenance = load_hook("provenance")

    provenance.on_config(provenance_config(git_checkout))

    # 2025-03-04T05:06:07Z, the committer date of the fixture's commit.
    assert provenance.os.environ["SOURCE_DATE_EPOCH"] == "1741064767"


def test_source_date_epoch_kept_when_set(
    git_checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    provenance = load_hook("provenance")

    provenance.on_config(provenance_config(git_checkout))

    assert provenance.os.environ["SOURCE_DATE_EPOCH"] == "1234567890"


# --- hooks/apidocs.py ---


def test_math_directive_becomes_display_math() -> None:
    apidocs = load_hook("apidocs")
    text = "Definition.\n\n.. math:: \\sigma(x) = \\frac{1}{1 + e^{-x}}\n\nMore text."

    assert apidocs.rst_math_to_markdown(text) == (
        "Definition.\n\n\n$$\n\\sigma(x) = \\frac{1}{1 + e^{-x}}\n$$\n\nMore text."
    )


def test_math_directive_block_keeps_indent() -> None:
    apidocs = load_hook("apidocs")
    text = "Notes\n    .. math::\n\n        a \\\\\n        b\n\n    After."

    converted = apidocs.rst_math_to_markdown(text)

    assert "    $$\n    a \\\\\n    b\n    $$" in converted
    assert converted.endswith("\n    After.")


def test_math_role_becomes_inline_math() -> None:
    apidocs = load_hook("apidocs")

    converted = apidocs.rst_math_to_markdown("where :math:`v = x^3` and :math:`a_c` hold")

    assert converted == "where $v = x^3$ and $a_c$ hold"


def test_text_without_math_unchanged() -> None:
    apidocs = load_hook("apidocs")
    text = "Parameters\n----------\nx : array_like\n    Input."

    assert apidocs.rst_math_to_markdown(text) == text


# --- hooks/search.py ---


def search_config(config_dir: Path, dictionary: str | None) -> SimpleNamespace:
    plugin = SimpleNamespace(config=SimpleNamespace(jieba_dict_user=dictionary))
    return SimpleNamespace(
        config_file_path=str(config_dir / "mkdocs.yml"), plugins={"material/search": plugin}
    )


def test_jieba_dictionary_relative_to_config(tmp_path: Path) -> None:
    search = load_hook("search")
    config = search_config(tmp_path, "docs/assets/jieba_user_dict.txt")

    search.on_config(config)

    dictionary = config.plugins["material/search"].config.jieba_dict_user
    assert dictionary == str(tmp_path / "docs" / "assets" / "jieba_user_dict.txt")


def test_jieba_dictionary_absolute_kept(tmp_path: Path) -> None:
    search = load_hook("search")
    config = search_config(tmp_path, "/srv/dict.txt")

    search.on_config(config)

    assert config.plugins["material/search"].config.jieba_dict_user == "/srv/dict.txt"


def test_search_hook_runs_before_search_plugin() -> None:
    search = load_hook("search")

    # Material's search plugin loads the dictionary in its on_config at priority 0.
    assert search.on_config.mkdocs_priority > 0

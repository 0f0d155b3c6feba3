"""hooks/links.py: broken internal links and anchors fail every build; off-site links pass."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from mkdocs.exceptions import PluginError
from sitetools import copy_fixture_site, load_hook, run_mkdocs

# Every way a user runs a build must fail on a broken link, not only --strict.
BUILD_FLAGS = [
    pytest.param((), id="plain"),
    pytest.param(("--strict",), id="strict"),
    pytest.param(("--verbose",), id="verbose"),
]


@pytest.fixture
def links_site(tmp_path: Path) -> Path:
    """Return the mkdocs.yml of a copy of the all-valid fixture site."""
    return copy_fixture_site("site_links", tmp_path / "site_links")


def add_page(config_file: Path, name: str, text: str) -> None:
    (config_file.parent / "docs" / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("flags", BUILD_FLAGS)
def test_valid_links_build(links_site: Path, tmp_path: Path, flags: tuple[str, ...]) -> None:
    completed = run_mkdocs(links_site, tmp_path / "out", *flags)

    assert completed.returncode == 0, completed.stderr
    assert "broken" not in completed.stderr


@pytest.mark.parametrize("flags", BUILD_FLAGS)
def test_broken_link_fails_build(links_site: Path, tmp_path: Path, flags: tuple[str, ...]) -> None:
    add_page(links_site, "broken.md", "# 失效链接\n\n见[缺失的笔记](../notebooks/missing.md)。\n")

    completed = run_mkdocs(links_site, tmp_path / "out", *flags)

    assert completed.returncode != 0
    assert "docs/broken.md:3: broken link '../notebooks/missing.md'" in completed.stderr
    assert "Fix: link to a page by the relative path of its .md file" in completed.stderr


@pytest.mark.parametrize("flags", BUILD_FLAGS)
def test_broken_anchor_fails_build(
    links_site: Path, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    add_page(links_site, "anchor.md", "# 失效锚点\n\n正文。\n\n见[饱和](guide.md#饱和区)。\n")

    completed = run_mkdocs(links_site, tmp_path / "out", *flags)

    assert completed.returncode != 0
    assert "docs/anchor.md:5: broken anchor '../guide/#饱和区'" in completed.stderr
    assert "'guide/index.html' has no element with id '饱和区'" in completed.stderr
    assert "Fix: use an id that exists there" in completed.stderr


def test_every_broken_link_reported(links_site: Path, tmp_path: Path) -> None:
    add_page(links_site, "a.md", "# A\n\n[x](missing-a.md)\n")
    add_page(links_site, "b.md", "# B\n\n[y](index.md#no-such-anchor)\n")

    completed = run_mkdocs(links_site, tmp_path / "out")

    assert completed.returncode != 0
    assert "docs/a.md:3: broken link 'missing-a.md'" in completed.stderr
    assert "docs/b.md:3: broken anchor '../#no-such-anchor'" in completed.stderr
    assert "2 broken internal link(s)" in completed.stderr


def test_missing_image_fails_build(links_site: Path, tmp_path: Path) -> None:
    add_page(links_site, "image.md", "# 图\n\n![缺失](images/missing.svg)\n")

    completed = run_mkdocs(links_site, tmp_path / "out")

    assert completed.returncode != 0
    assert "broken link 'images/missing.svg'" in completed.stderr


def test_link_outside_site_root_fails(links_site: Path, tmp_path: Path) -> None:
    config = links_site.read_text(encoding="utf-8")
    links_site.write_text(
        config.replace(
            "site_url: http://127.0.0.1:8000/", "site_url: http://127.0.0.1:8000/notes/"
        ),
        encoding="utf-8",
    )
    add_page(links_site, "outside.md", '# 外部\n\n<a href="/elsewhere/">站点根目录之外</a>\n')

    completed = run_mkdocs(links_site, tmp_path / "out")

    assert completed.returncode != 0
    assert "broken link '/elsewhere/': it points outside the site" in completed.stderr


def write_page(site_dir: Path, html: str) -> None:
    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "index.html").write_text(html, encoding="utf-8")


def test_serve_logs_without_raising(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    links = load_hook("links")
    site_dir = tmp_path / "site"
    write_page(site_dir, '<a href="missing/">x</a>')
    config = SimpleNamespace(site_dir=str(site_dir), site_url="http://127.0.0.1:8000/")

    links.on_startup(command="serve", dirty=False)
    with caplog.at_level(logging.ERROR, logger="mkdocs.plugins.actnotes.links"):
        links.on_post_build(config)

    assert "index.html:1: broken link 'missing/'" in caplog.text


def test_build_raises_plugin_error(tmp_path: Path) -> None:
    links = load_hook("links")
    site_dir = tmp_path / "site"
    write_page(site_dir, '<a href="#nowhere">x</a>')
    config = SimpleNamespace(site_dir=str(site_dir), site_url="http://127.0.0.1:8000/")

    links.on_startup(command="build", dirty=False)
    with pytest.raises(PluginError, match="1 broken internal link"):
        links.on_post_build(config)


@pytest.mark.parametrize(
    "href",
    [
        "https://example.com/a.js",
        "//cdn.example.com/b.css",
        "mailto:someone@example.com",
        "data:image/png;base64,AAAA",
        "javascript:void(0)",
        "#",
        "",
    ],
)
def test_unchecked_urls_pass(tmp_path: Path, href: str) -> None:
    links = load_hook("links")
    site_dir = tmp_path / "site"
    write_page(site_dir, f'<a href="{href}">x</a>')
    config = SimpleNamespace(site_dir=str(site_dir), site_url="http://127.0.0.1:8000/")

    links.on_startup(command="build", dirty=False)
    links.on_post_build(config)


def test_site_url_links_checked(tmp_path: Path) -> None:
    links = load_hook("links")
    site_dir = tmp_path / "site"
    write_page(site_dir, '<link rel="canonical" href="http://127.0.0.1:8000/gone/">')
    config = SimpleNamespace(site_dir=str(site_dir), site_url="http://127.0.0.1:8000/")

    links.on_startup(command="build", dirty=False)
    with pytest.raises(PluginError):
        links.on_post_build(config)


def test_percent_encoded_anchor_matches(tmp_path: Path) -> None:
    links = load_hook("links")
    site_dir = tmp_path / "site"
    write_page(
        site_dir,
        '<h2 id="梯度消失">梯度消失</h2><a href="#%E6%A2%AF%E5%BA%A6%E6%B6%88%E5%A4%B1">x</a>',
    )
    config = SimpleNamespace(site_dir=str(site_dir), site_url="http://127.0.0.1:8000/")

    links.on_startup(command="build", dirty=False)
    links.on_post_build(config)

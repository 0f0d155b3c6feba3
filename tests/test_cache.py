"""The result cache: which changes make a note or module run again, counted by executions."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from noteexec import (
    CACHE_DIR,
    ExecutionOptions,
    NoteCache,
    NoteResult,
    NoteRunner,
    OptionsError,
    cache_enabled,
    open_cache,
)
from noteexec._cache import installed_versions

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "data" / "doctest_site"
HEADER = "---\ntitle: 缓存\n---\n\n"
OPTIONS = ExecutionOptions(timeout=30, deadline_grace=1.0)
LOGGER = "tests.cache"

Build = Callable[..., NoteRunner]


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache") / "site"


@pytest.fixture
def site(site_root: Path) -> Path:
    """A fresh copy of the fixture site, plus a note that reads a data file, at `site_root`.

    The folder stays the same across tests so that one runner (and forkserver) serves them.
    """
    site_root.mkdir(exist_ok=True)
    for child in site_root.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(FIXTURE, site_root, dirs_exist_ok=True)
    (site_root / "notebooks" / "table.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    note = "```python\nwith open('table.csv', encoding='utf-8') as f:\n    print(f.read())\n```\n"
    (site_root / "notebooks" / "reads_data.md").write_text(HEADER + note, encoding="utf-8")
    return site_root


@pytest.fixture(scope="module")
def shared_runner(site_root: Path) -> Iterator[NoteRunner]:
    with NoteRunner(root=site_root, options=OPTIONS) as runner:
        yield runner


def notes(site: Path) -> list[Path]:
    return sorted((site / "notebooks").glob("*.md"))


def modules(site: Path) -> list[Path]:
    return sorted((site / "notebooks" / "smallact").glob("*.py"))


def new_cache(
    site: Path, options: ExecutionOptions = OPTIONS, versions: dict[str, str] | None = None
) -> NoteCache:
    logger = logging.getLogger(LOGGER)
    return NoteCache(site / CACHE_DIR, root=site, options=options, logger=logger, versions=versions)


@pytest.fixture
def build(site: Path, shared_runner: NoteRunner) -> Build:
    """Return a function that runs every note and module of `site` once with a new cache.

    The runner's counters start empty on each call.
    """

    def run_all(
        *, options: ExecutionOptions = OPTIONS, versions: dict[str, str] | None = None
    ) -> NoteRunner:
        shared_runner.options = options
        shared_runner.cache = new_cache(site, options, versions)
        shared_runner.executed = []
        shared_runner.from_cache = []
        results = shared_runner.run_notes(notes(site))
        shared_runner.run_examples(modules(site))
        for result in results.values():
            assert result.ok, "\n".join(str(error) for error in result.errors)
        return shared_runner

    return run_all


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_unchanged_rebuild_runs_nothing(build: Build) -> None:
    first = build()
    assert first.executed == [
        "notebooks/logistic.md",
        "notebooks/plain.md",
        "notebooks/reads_data.md",
        "notebooks/smallact/__init__.py",
        "notebooks/smallact/_functions.py",
    ]
    second = build()
    assert second.executed == []
    assert len(second.from_cache) == 5


def test_all_cached_starts_no_forkserver(site: Path, build: Build) -> None:
    build()
    with NoteRunner(root=site, options=OPTIONS, cache=new_cache(site)) as runner:
        runner.run_notes(notes(site))
        runner.run_examples(modules(site))
        assert runner.from_cache
        assert runner._process is None


def test_cached_result_equals_fresh(site: Path, build: Build, shared_runner: NoteRunner) -> None:
    build()
    path = site / "notebooks" / "logistic.md"
    stored = new_cache(site).lookup("note", "notebooks/logistic.md", path.read_text("utf-8"))
    assert stored is not None
    shared_runner.cache = None
    fresh = shared_runner.run_note(path)
    assert NoteResult.from_json(stored) == fresh


def test_edited_note_runs_alone(site: Path, build: Build) -> None:
    build()
    edit(site / "notebooks" / "plain.md", "sum(range(4))", "sum(range(5))")
    assert build().executed == ["notebooks/plain.md"]


def test_edited_module_reruns_importers(site: Path, build: Build) -> None:
    build()
    edit(site / "notebooks" / "smallact" / "_functions.py", "without overflow.", "safely.")
    assert build().executed == [
        "notebooks/logistic.md",
        "notebooks/smallact/__init__.py",
        "notebooks/smallact/_functions.py",
    ]


def test_edited_data_file_reruns_reader(site: Path, build: Build) -> None:
    build()
    edit(site / "notebooks" / "table.csv", "1,2", "3,4")
    assert build().executed == ["notebooks/reads_data.md"]


def test_package_version_change_reruns_all(build: Build) -> None:
    build()
    versions = installed_versions()
    versions["numpy"] = versions["numpy"] + ".post1"
    assert len(build(versions=versions).executed) == 5


def test_settings_change_reruns_all(build: Build) -> None:
    build()
    assert len(build(options=ExecutionOptions(timeout=31, deadline_grace=1.0)).executed) == 5


def test_jobs_change_reuses_results(build: Build) -> None:
    build()
    assert build(options=ExecutionOptions(timeout=30, deadline_grace=1.0, jobs=1)).executed == []


def test_miss_logged_with_reason(
    site: Path, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    build()
    edit(site / "notebooks" / "smallact" / "__init__.py", "stand-in", "copy")
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        build()
    messages = [record.getMessage() for record in caplog.records]
    assert "notebooks/logistic.md: cache miss: notebooks/smallact/__init__.py changed" in messages
    assert "notebooks/plain.md: from the cache" in messages


def test_version_miss_names_distribution(build: Build, caplog: pytest.LogCaptureFixture) -> None:
    build()
    versions = installed_versions()
    old = versions["numpy"]
    versions["numpy"] = "0.0"
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        build(versions=versions)
    reasons = {record.getMessage() for record in caplog.records}
    assert f"notebooks/plain.md: cache miss: numpy changed ({old} → 0.0)" in reasons


def run_failing(runner: NoteRunner, site: Path, path: Path) -> NoteCache:
    """Run a note that must fail, with a new cache; return the cache."""
    runner.options = OPTIONS
    runner.cache = new_cache(site)
    runner.executed = []
    assert not runner.run_note(path).ok
    assert runner.executed == [path.relative_to(site).as_posix()]
    return runner.cache


def test_failing_note_never_cached(site: Path, shared_runner: NoteRunner) -> None:
    path = site / "notebooks" / "failing.md"
    path.write_text(HEADER + "```python\n1 / 0\n```\n", encoding="utf-8")
    run_failing(shared_runner, site, path)
    cache = run_failing(shared_runner, site, path)
    assert not cache.entry_path("note", "notebooks/failing.md").exists()


def test_timed_out_note_never_cached(site: Path, shared_runner: NoteRunner) -> None:
    path = site / "notebooks" / "slow.md"
    code = "```python timeout=0.5\nimport time\ntime.sleep(30)\n```\n"
    path.write_text(HEADER + code, encoding="utf-8")
    cache = run_failing(shared_runner, site, path)
    assert not cache.entry_path("note", "notebooks/slow.md").exists()


def test_drifted_example_never_cached(site: Path, shared_runner: NoteRunner) -> None:
    path = site / "notebooks" / "plain.md"
    edit(path, "[1, 2, 3]", "[3, 2, 1]")
    cache = run_failing(shared_runner, site, path)
    assert not cache.entry_path("note", "notebooks/plain.md").exists()


@pytest.mark.parametrize(
    ("damage", "cause"),
    [
        (lambda text: text[: len(text) // 2], "invalid JSON"),
        (lambda text: "", "invalid JSON"),
        (lambda text: "[]", "expected a JSON object"),
        (lambda text: json.dumps({**json.loads(text), "files": []}), "missing or invalid 'files'"),
    ],
    ids=["truncated", "empty", "not-an-object", "wrong-field-type"],
)
def test_corrupt_entry_warned_and_rewritten(
    site: Path,
    build: Build,
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[str], str],
    cause: str,
) -> None:
    build()
    entry = site / CACHE_DIR / "note" / "notebooks" / "plain.md.json"
    entry.write_text(damage(entry.read_text(encoding="utf-8")), encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        runner = build()

    assert runner.executed == ["notebooks/plain.md"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"corrupt cache entry {entry} ({cause}")
    assert json.loads(entry.read_text(encoding="utf-8"))["path"] == "notebooks/plain.md"
    assert build().executed == []


def test_entries_written_without_leftovers(site: Path, build: Build) -> None:
    build()
    written = sorted(
        path.relative_to(site / CACHE_DIR).as_posix()
        for path in (site / CACHE_DIR).rglob("*")
        if path.is_file()
    )
    assert written == [
        "examples/notebooks/smallact/__init__.py.json",
        "examples/notebooks/smallact/_functions.py.json",
        "note/notebooks/logistic.md.json",
        "note/notebooks/plain.md.json",
        "note/notebooks/reads_data.md.json",
    ]


def test_entry_records_read_files(site: Path, build: Build) -> None:
    build()
    entry = json.loads((site / CACHE_DIR / "note" / "notebooks" / "logistic.md.json").read_text())
    assert "notebooks/smallact/_functions.py" in entry["files"]
    assert "notebooks/smallact/__pycache__" not in "".join(entry["files"])
    assert "numpy" in entry["distributions"]
    plain = json.loads((site / CACHE_DIR / "note" / "notebooks" / "plain.md.json").read_text())
    assert not any("smallact" in path for path in plain["files"])


def test_file_created_after_failed_open_reruns(site: Path, build: Build) -> None:
    note = HEADER + (
        "```python\n"
        "try:\n    with open('optional.txt', encoding='utf-8') as f:\n        print(f.read())\n"
        "except FileNotFoundError:\n    print('absent')\n"
        "```\n"
    )
    (site / "notebooks" / "optional.md").write_text(note, encoding="utf-8")
    build()
    (site / "notebooks" / "optional.txt").write_text("present", encoding="utf-8")
    assert build().executed == ["notebooks/optional.md"]


def test_cache_off_by_option(site: Path) -> None:
    assert open_cache(site, ExecutionOptions(cache=False)) is None
    assert open_cache(site, ExecutionOptions()) is not None


@pytest.mark.parametrize(
    ("value", "enabled"), [("0", False), ("off", False), ("1", True), ("", True)]
)
def test_cache_switched_by_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool
) -> None:
    monkeypatch.setenv("NOTEEXEC_CACHE", value)
    assert cache_enabled(ExecutionOptions()) is enabled


def test_invalid_environment_switch_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTEEXEC_CACHE", "sometimes")
    with pytest.raises(OptionsError, match="NOTEEXEC_CACHE='sometimes' is invalid"):
        cache_enabled(ExecutionOptions())


def test_cache_option_read_from_mapping() -> None:
    assert ExecutionOptions.from_mapping({"cache": False}, base_dir=REPO).cache is False
    with pytest.raises(OptionsError, match="cache: expected true or false, got 'no'"):
        ExecutionOptions.from_mapping({"cache": "no"}, base_dir=REPO)

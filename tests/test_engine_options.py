"""Engine options as read from ``extra.notes`` in mkdocs.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
from noteexec import AllowedWarning, ExecutionOptions, OptionsError

REPO = Path(__file__).resolve().parent.parent
FONT = "node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"


def test_options_read_from_mapping() -> None:
    options = ExecutionOptions.from_mapping(
        {
            "timeout": 90,
            "jobs": 3,
            "fonts": [FONT],
            "memory_limit": "2 GiB",
            "allowed_warnings": [
                {
                    "category": "DeprecationWarning",
                    "message": "^pkg_resources",
                    "module": "matplotlib\\.",
                    "reason": "matplotlib imports pkg_resources; fixed upstream",
                }
            ],
        },
        base_dir=REPO,
    )
    assert options.timeout == 90.0
    assert options.job_count == 3
    assert options.fonts == ((REPO / FONT).resolve(),)
    assert options.memory_limit == 2 * 1024**3
    assert options.allowed_warnings == (
        AllowedWarning(
            category="DeprecationWarning",
            reason="matplotlib imports pkg_resources; fixed upstream",
            message="^pkg_resources",
            module="matplotlib\\.",
        ),
    )


def test_options_defaults() -> None:
    options = ExecutionOptions.from_mapping({}, base_dir=REPO)
    assert options.timeout == 60.0
    assert options.memory_limit == 4 * 1024**3
    assert options.job_count >= 1
    assert options.fonts == ()


def test_doctests_and_cache_read_from_mapping() -> None:
    options = ExecutionOptions.from_mapping(
        {"doctests": ["actlib/*.py", "tools/check.py"], "cache": False}, base_dir=REPO
    )
    assert options.doctests == ("actlib/*.py", "tools/check.py")
    assert options.cache is False


def test_doctests_and_cache_defaults() -> None:
    options = ExecutionOptions.from_mapping({}, base_dir=REPO)
    assert options.doctests == ()
    assert options.cache is True


def test_memory_limit_unlimited() -> None:
    options = ExecutionOptions.from_mapping({"memory_limit": "unlimited"}, base_dir=REPO)
    assert options.memory_limit is None


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"timout": 5}, "unknown option 'timout'"),
        ({"timeout": 0}, "timeout: expected a positive number"),
        ({"timeout": True}, "timeout: expected a positive number"),
        ({"jobs": 0}, "jobs: expected a positive integer"),
        ({"memory_limit": 4096}, "memory_limit: expected a size such as '512 MiB'"),
        ({"fonts": "a.ttf"}, "fonts: expected a list"),
        ({"fonts": ["missing.ttf"]}, "fonts[0]: font file 'missing.ttf' not found"),
        ({"allowed_warnings": [{"category": "UserWarning"}]}, "'reason' is required"),
        (
            {"allowed_warnings": [{"category": "UserWarning", "reason": " "}]},
            "'reason' is required",
        ),
        (
            {"allowed_warnings": [{"category": "W", "reason": "r", "message": "("}]},
            "allowed_warnings[0].message: invalid regular expression",
        ),
        (
            {"allowed_warnings": [{"category": "W", "reason": "r", "why": "x"}]},
            "unknown key 'why'",
        ),
        ({"cache": "off"}, "cache: expected true or false, got 'off'"),
        ({"doctests": "actlib/*.py"}, "doctests: expected a list of glob patterns"),
        ({"doctests": [""]}, "doctests[0]: expected a glob pattern"),
        ({"doctests": ["/abs/*.py"]}, "doctests[0]: '/abs/*.py' must be relative"),
        ({"doctests": ["../other/*.py"]}, "doctests[0]: '../other/*.py' must be relative"),
    ],
)
def test_invalid_option_names_key(settings: dict[str, object], fragment: str) -> None:
    with pytest.raises(OptionsError) as caught:
        ExecutionOptions.from_mapping(settings, base_dir=REPO)
    assert fragment in str(caught.value)


def test_options_error_is_value_error() -> None:
    assert issubclass(OptionsError, ValueError)

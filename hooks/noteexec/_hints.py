"""The fix for an import that failed in a note: a misspelt name, or a package to install.

Runs in the note process, where the import failed, so it searches the same
``sys.path`` and installed distributions as the note.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import importlib.util
import os
import pkgutil
import re
import sys

REQUIREMENTS_STEPS = (
    "add it to requirements.in, run `uv pip compile -q requirements.in --generate-hashes "
    "--python-version 3.11 -o requirements.txt`, then `make setup`"
)
"""The steps that install a new dependency into the build's environment of this repository."""

# Import names whose distribution on PyPI has another name.
_DISTRIBUTIONS = {
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "yaml": "PyYAML",
}
_CANNOT_IMPORT = re.compile(r"^cannot import name '([^']+)'")


def import_fix(error: BaseException, root: str) -> str | None:
    """Return the fix for `error` if it is a failed import, else None."""
    if isinstance(error, ModuleNotFoundError) and error.name:
        return _missing_module_fix(error.name, root)
    if isinstance(error, ImportError) and error.name:
        missing = _CANNOT_IMPORT.match(str(error))
        if missing is not None:
            return _missing_name_fix(error.name, missing.group(1))
    return None


def _missing_module_fix(name: str, root: str) -> str:
    parent, _, last = name.rpartition(".")
    if parent and parent in sys.modules:
        package = sys.modules[parent]
        submodules = [info.name for info in pkgutil.iter_modules(getattr(package, "__path__", []))]
        close = difflib.get_close_matches(last, submodules, n=1, cutoff=0.8)
        if close:
            return f"correct the name: {parent} has a module {close[0]!r}, not {last!r}"
        return f"correct the name: {parent} has no module {last!r}"

    top = name.partition(".")[0]
    close = difflib.get_close_matches(top, _importable_names(), n=1, cutoff=0.8)
    if close:
        local = _repository_path(close[0], root)
        where = f"a module of this repository ({local})" if local else "installed"
        return f"correct the name: did you mean {close[0]!r}? It is {where}."
    distribution = _DISTRIBUTIONS.get(top, top)
    return (
        f"{top!r} is neither a module of this repository nor installed in the build's "
        f"environment. If the note needs the package {distribution}, {REQUIREMENTS_STEPS}"
    )


def _missing_name_fix(module: str, name: str) -> str:
    loaded = sys.modules.get(module)
    names = [item for item in dir(loaded) if not item.startswith("_")] if loaded else []
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
    if close:
        return f"correct the name: did you mean `from {module} import {close[0]}`?"
    return f"correct the name: {module} has no {name!r}; check the names it exports"


def _importable_names() -> list[str]:
    """Return the top-level module names that an import in this process could find."""
    names = {info.name for info in pkgutil.iter_modules()}
    # Editable installs may import through a finder that pkgutil does not list.
    names.update(importlib.metadata.packages_distributions())
    names.update(sys.builtin_module_names)
    return sorted(names)


def _repository_path(name: str, root: str) -> str | None:
    """Return where module `name` lives, relative to `root`, if it lives inside it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    if not origin or not os.path.isabs(origin):
        return None
    prefix = os.path.join(os.path.abspath(root), "")
    if not origin.startswith(prefix):
        return None
    return origin[len(prefix) :].replace(os.sep, "/")

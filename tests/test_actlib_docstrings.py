"""actlib's docstrings: numpydoc sections and runnable examples.

The examples are run as doctests with exact output matching, so that what they show is
what a reader sees when pasting them into a plain Python session with NumPy 2.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from typing import Any

import pytest

import actlib

MODULES = [
    "actlib",
    *sorted(f"actlib.{info.name}" for info in pkgutil.iter_modules(actlib.__path__)),
]
PUBLIC_FUNCTIONS = [
    getattr(actlib, name)
    for name in actlib.__all__
    if inspect.isfunction(getattr(actlib, name)) and name not in {"get", "comparison_table"}
]
SECTIONS = ("Parameters", "Returns", "See Also", "Notes", "References", "Examples")


@pytest.mark.parametrize("module_name", MODULES)
def test_doctests_pass(module_name: str) -> None:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, module_name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0


def test_every_public_function_has_examples() -> None:
    examples = doctest.DocTestFinder().find(actlib._functions) + doctest.DocTestFinder().find(
        actlib._prelu
    )
    documented = {test.name.rsplit(".", 1)[-1] for test in examples if test.examples}
    assert {function.__name__ for function in PUBLIC_FUNCTIONS} <= documented


def _section(docstring: str, title: str) -> str:
    match = re.search(
        rf"^ *{title}\n *-{{{len(title)}}}\n(.*?)(?=^ *\w[\w ]*\n *-{{3,}}\n|\Z)",
        docstring,
        re.MULTILINE | re.DOTALL,
    )
    return match.group(1) if match else ""


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda function: function.__name__)
def test_numpydoc_sections_present(function: Callable[..., Any]) -> None:
    docstring = inspect.getdoc(function) or ""
    for title in SECTIONS:
        assert _section(docstring, title).strip(), f"{function.__name__}: missing {title}"


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda function: function.__name__)
def test_see_also_links_function_and_derivative(function: Callable[..., Any]) -> None:
    name = function.__name__
    partner = name.removesuffix("_grad") if name.endswith("_grad") else f"{name}_grad"
    see_also = _section(inspect.getdoc(function) or "", "See Also")
    assert re.search(rf"^{partner} :", see_also, re.MULTILINE)


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda function: function.__name__)
def test_references_give_a_year(function: Callable[..., Any]) -> None:
    references = _section(inspect.getdoc(function) or "", "References")
    assert re.search(r"\b(19|20)\d\d\b", references)

"""Dataclasses that describe an activation function in the registry."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from actlib import _display
from actlib._checks import Result

__all__ = [
    "Activation",
    "Cost",
    "FrameworkDefault",
    "Language",
    "OnnxAttribute",
    "OnnxOperator",
    "OutputRange",
    "Parameter",
    "Properties",
    "Reference",
    "Smoothness",
]

Language = Literal["zh", "en"]
Cost = Literal["低", "中", "高"]
Smoothness = Literal["C0", "C1", "C∞"]
ParameterValue = bool | float | str | None


@dataclass(frozen=True, slots=True)
class FrameworkDefault:
    """The default of one parameter in one framework API.

    Attributes
    ----------
    framework : str
        Framework name as its users write it, e.g. "PyTorch", "ONNX", "Keras 3".
    api : str
        The function, layer or operator, e.g. "torch.nn.LeakyReLU".
    name : str
        The parameter's name in that API, e.g. "negative_slope" or "alpha".
    value : float, str or None
        The default value; None when the API has no default.
    """

    framework: str
    api: str
    name: str
    value: ParameterValue


@dataclass(frozen=True, slots=True)
class Parameter:
    """A keyword parameter of an actlib function.

    Attributes
    ----------
    name : str
        The keyword in actlib, e.g. "negative_slope".
    symbol : str
        Its LaTeX symbol in `Activation.latex`, e.g. ``\\alpha``.
    default : float, str or None
        actlib's default; None for a required argument (PReLU's slope).
    description, description_en : str
        One sentence in Chinese and in English.
    framework_defaults : tuple of FrameworkDefault
        Where other frameworks name or default the parameter differently.
    """

    name: str
    symbol: str
    default: ParameterValue
    description: str
    description_en: str
    framework_defaults: tuple[FrameworkDefault, ...] = ()


@dataclass(frozen=True, slots=True)
class OutputRange:
    """The image of the function over the reals, for the default parameters.

    Attributes
    ----------
    lower, upper : float
        The infimum and supremum (±inf when unbounded).
    lower_closed, upper_closed : bool
        Whether the bound is attained.
    lower_latex, upper_latex : str or None
        A symbolic form of the bound (e.g. ``-\\lambda\\alpha``) used in displays instead
        of the number.
    """

    lower: float
    upper: float
    lower_closed: bool
    upper_closed: bool
    lower_latex: str | None = None
    upper_latex: str | None = None

    def latex(self) -> str:
        """Return the interval in LaTeX, e.g. ``(0, 1)`` or ``[0, +\\infty)``."""
        left = "[" if self.lower_closed else "("
        right = "]" if self.upper_closed else ")"
        lower = self.lower_latex or _format_bound(self.lower)
        upper = self.upper_latex or _format_bound(self.upper)
        return f"{left}{lower}, {upper}{right}"


def _format_bound(value: float) -> str:
    if math.isinf(value):
        return r"+\infty" if value > 0 else r"-\infty"
    if value == int(value):
        return str(int(value))
    return f"{value:.5f}" + r"\ldots"


@dataclass(frozen=True, slots=True)
class Properties:
    """Qualitative properties for the default parameters.

    Attributes
    ----------
    monotonic : bool
        f is non-decreasing on the reals.
    zero_centred : bool
        E[f(Z)] = 0 for a standard normal Z (true for Tanh and SELU only).
    smoothness : {"C0", "C1", "C∞"}
        The highest class C^k that f belongs to on the reals.
    bounded_above, bounded_below : bool
        Whether f is bounded on that side.
    saturates_negative, saturates_positive : bool
        Whether f'(x) tends to 0 as x tends to -inf (+inf).
    cost : {"低", "中", "高"}
        Coarse evaluation cost class (low, medium, high) from the benchmark.
    """

    monotonic: bool
    zero_centred: bool
    smoothness: Smoothness
    bounded_above: bool
    bounded_below: bool
    saturates_negative: bool
    saturates_positive: bool
    cost: Cost

    @property
    def saturating(self) -> bool:
        """Whether f' tends to 0 on at least one side."""
        return self.saturates_negative or self.saturates_positive


@dataclass(frozen=True, slots=True)
class OnnxAttribute:
    """An attribute of an ONNX operator, with its default (None when required)."""

    name: str
    type: str
    default: ParameterValue


@dataclass(frozen=True, slots=True)
class OnnxOperator:
    """The ONNX operator (default domain) that computes the activation.

    Attributes
    ----------
    name : str
        The operator type, e.g. "LeakyRelu".
    opsets : tuple of int
        The opset versions in which the operator was introduced (first) or changed.
    attributes : tuple of OnnxAttribute
        Its attributes with their ONNX defaults.
    settings : tuple of (str, str or float)
        Attribute values that select this variant, e.g. ``(("approximate", "tanh"),)``.
    note, note_en : str
        What an exporter or a reader must know, in Chinese and English ("" if nothing).
    """

    name: str
    opsets: tuple[int, ...]
    attributes: tuple[OnnxAttribute, ...] = ()
    settings: tuple[tuple[str, str | float], ...] = ()
    note: str = ""
    note_en: str = ""

    @property
    def introduced(self) -> int:
        """The opset in which the operator first appeared."""
        return self.opsets[0]


@dataclass(frozen=True, slots=True)
class Reference:
    """The publication that introduced the activation (or its use in neural networks)."""

    authors: tuple[str, ...]
    title: str
    year: int
    venue: str
    url: str | None = None

    def citation(self) -> str:
        """Return a one-line citation: authors, title, venue, year."""
        authors = ", ".join(self.authors)
        return f"{authors}. {self.title}. {self.venue}, {self.year}."


@dataclass(frozen=True, slots=True)
class Activation:
    """One activation function: callables, formulas and metadata.

    Attributes
    ----------
    name : str
        Registry key, e.g. "leaky_relu".
    short_name : str
        The usual abbreviation, e.g. "LeakyReLU", for legends and table rows.
    display_name, display_name_en : str
        Names for headings in Chinese and English.
    function, derivative : callable
        The actlib function and its derivative with respect to x.
    latex, latex_derivative : str
        LaTeX equations ``f(x) = ...`` and ``f'(x) = ...`` of exactly the implemented
        variant, including the value chosen at a kink.
    notation, notation_en : str
        A sentence that defines the symbols of the equations ("" when none is needed).
    parameters : tuple of Parameter
        Keyword parameters of `function` besides x.
    output_range : OutputRange
    properties : Properties
    onnx : OnnxOperator or None
        None when ONNX defines no operator for the function.
    reference : Reference
    """

    name: str
    short_name: str
    display_name: str
    display_name_en: str
    function: Callable[..., Result]
    derivative: Callable[..., Result]
    latex: str
    latex_derivative: str
    notation: str
    notation_en: str
    parameters: tuple[Parameter, ...]
    output_range: OutputRange
    properties: Properties
    onnx: OnnxOperator | None
    reference: Reference

    def formula(self, lang: Language = "zh") -> _display.Formula:
        """Return a display of f and f' (``_repr_latex_`` and ``_repr_markdown_``)."""
        return _display.formula(self, lang)

    def property_table(self, lang: Language = "zh") -> _display.MarkdownTable:
        """Return a two-column Markdown table of this activation's metadata."""
        return _display.property_table(self, lang)

    def _repr_latex_(self) -> str:
        return self.formula("zh")._repr_latex_()

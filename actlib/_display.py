"""Rich displays of registry entries: formulas (LaTeX) and property tables (Markdown).

Jupyter and the note engine call ``_repr_latex_`` and ``_repr_markdown_``. Text is in
Chinese by default; ``lang="en"`` switches every label to English.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actlib._metadata import Activation, Language, OnnxOperator, Parameter

__all__ = ["Formula", "MarkdownTable", "comparison_table", "formula", "property_table"]

_LANGUAGES = ("zh", "en")

_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "property": "属性",
        "value": "值",
        "name": "名称",
        "formula": "公式",
        "derivative": "导数",
        "range": "值域",
        "monotonic": "单调",
        "zero_centred": "零中心",
        "smoothness": "光滑性",
        "bounded_above": "有上界",
        "bounded_below": "有下界",
        "saturating": "饱和",
        "cost": "计算代价",
        "parameters": "参数",
        "onnx": "ONNX 算子",
        "reference": "出处",
        "yes": "是",
        "no": "否",
        "none": "无",
        "both_sides": "两侧",
        "negative_side": "负半轴",
        "positive_side": "正半轴",
        "not_in_onnx": "无对应算子",
        "opsets": "opset",
        "attributes": "属性",
        "default": "默认",
        "required": "必填",
        "separator": "；",
        "open": "（",
        "close": "）",
        "comma": "，",
        "list_comma": "、",
        "colon": "：",
    },
    "en": {
        "property": "Property",
        "value": "Value",
        "name": "Name",
        "formula": "Formula",
        "derivative": "Derivative",
        "range": "Range",
        "monotonic": "Monotonic",
        "zero_centred": "Zero-centred",
        "smoothness": "Smoothness",
        "bounded_above": "Bounded above",
        "bounded_below": "Bounded below",
        "saturating": "Saturating",
        "cost": "Cost",
        "parameters": "Parameters",
        "onnx": "ONNX operator",
        "reference": "Reference",
        "yes": "yes",
        "no": "no",
        "none": "none",
        "both_sides": "both sides",
        "negative_side": "x → -∞",
        "positive_side": "x → +∞",
        "not_in_onnx": "no operator",
        "opsets": "opsets",
        "attributes": "attributes",
        "default": "default",
        "required": "required",
        "separator": "; ",
        "open": " (",
        "close": ")",
        "comma": ", ",
        "list_comma": ", ",
        "colon": ": ",
    },
}

_COST_EN = {"低": "low", "中": "medium", "高": "high"}
_SMOOTHNESS_LATEX = {"C0": "$C^0$", "C1": "$C^1$", "C∞": r"$C^\infty$"}


def _labels(lang: str) -> dict[str, str]:
    if lang not in _LANGUAGES:
        raise ValueError(f"Unknown display language {lang!r}; choose one of 'zh', 'en'.")
    return _LABELS[lang]


@dataclass(frozen=True, slots=True)
class Formula:
    """Display of an activation's f and f' as one aligned LaTeX block.

    Attributes
    ----------
    latex : str
        The ``aligned`` environment, without ``$$`` delimiters.
    notation : str
        A sentence that defines the symbols, in the display language ("" if none).
    """

    latex: str
    notation: str

    def _repr_latex_(self) -> str:
        block = f"$$\n{self.latex}\n$$"
        if not self.notation:
            return block
        return f"{block}\n\n{self.notation}"

    def _repr_markdown_(self) -> str:
        return self._repr_latex_()

    def __str__(self) -> str:
        return self._repr_latex_()


@dataclass(frozen=True, slots=True)
class MarkdownTable:
    """A Markdown table with a header row, displayed through ``_repr_markdown_``."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def _repr_markdown_(self) -> str:
        lines = [_row(self.header), _row(("---",) * len(self.header))]
        lines.extend(_row(row) for row in self.rows)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._repr_markdown_()


def _row(cells: Sequence[str]) -> str:
    escaped = (cell.replace("|", r"\|") for cell in cells)
    return "| " + " | ".join(escaped) + " |"


def _aligned(equation: str) -> str:
    """Put the alignment point of `equation` before its first ``=``."""
    left, sep, right = equation.partition("=")
    if not sep:
        return equation
    return f"{left.rstrip()} &= {right.lstrip()}"


def formula(activation: Activation, lang: Language = "zh") -> Formula:
    """Return the display of `activation`'s f and f' in `lang`."""
    _labels(lang)
    body = " \\\\\n".join(
        _aligned(equation) for equation in (activation.latex, activation.latex_derivative)
    )
    notation = activation.notation if lang == "zh" else activation.notation_en
    return Formula(latex=f"\\begin{{aligned}}\n{body}\n\\end{{aligned}}", notation=notation)


def _yes_no(value: bool, labels: dict[str, str]) -> str:
    return labels["yes"] if value else labels["no"]


def _saturation(activation: Activation, labels: dict[str, str]) -> str:
    properties = activation.properties
    if properties.saturates_negative and properties.saturates_positive:
        return labels["both_sides"]
    if properties.saturates_negative:
        return labels["negative_side"]
    if properties.saturates_positive:
        return labels["positive_side"]
    return labels["no"]


def _format_value(value: bool | float | str | None, labels: dict[str, str]) -> str:
    if value is None:
        return labels["required"]
    if isinstance(value, bool):
        return f"`{value}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"{value:g}" if abs(value) >= 1e-4 else repr(value)


def _parameter_cell(parameter: Parameter, lang: Language, labels: dict[str, str]) -> str:
    """Format e.g. "`negative_slope` ($\\alpha$, default 0.01): slope for x ≤ 0 (...)"."""
    description = parameter.description if lang == "zh" else parameter.description_en
    default = _format_value(parameter.default, labels)
    head = (
        f"`{parameter.name}`{labels['open']}${parameter.symbol}${labels['comma']}"
        f"{labels['default']} {default}{labels['close']}{labels['colon']}{description}"
    )
    others = labels["comma"].join(
        f"{item.framework} `{item.api}` `{item.name}`={_format_value(item.value, labels)}"
        for item in parameter.framework_defaults
    )
    return f"{head}{labels['open']}{others}{labels['close']}" if others else head


def _parameters_cell(activation: Activation, lang: Language, labels: dict[str, str]) -> str:
    if not activation.parameters:
        return labels["none"]
    cells = (_parameter_cell(item, lang, labels) for item in activation.parameters)
    return labels["separator"].join(cells)


def _onnx_cell(onnx: OnnxOperator | None, lang: Language, labels: dict[str, str]) -> str:
    if onnx is None:
        return labels["not_in_onnx"]
    opsets = labels["list_comma"].join(str(version) for version in onnx.opsets)
    text = f"`{onnx.name}`{labels['open']}{labels['opsets']} {opsets}{labels['close']}"
    if onnx.attributes:
        attributes = labels["list_comma"].join(
            f"`{item.name}`={_format_value(item.default, labels)}" for item in onnx.attributes
        )
        text += f"{labels['comma']}{labels['attributes']} {attributes}"
    if onnx.settings:
        settings = labels["list_comma"].join(
            f"`{name}`={_format_value(value, labels)}" for name, value in onnx.settings
        )
        text += f" → {settings}"
    note = onnx.note if lang == "zh" else onnx.note_en
    return f"{text}{labels['separator']}{note}" if note else text


def _cost(activation: Activation, lang: Language) -> str:
    cost = activation.properties.cost
    return cost if lang == "zh" else _COST_EN[cost]


def _property_rows(activation: Activation, lang: Language) -> list[tuple[str, str]]:
    labels = _labels(lang)
    properties = activation.properties
    reference = activation.reference
    citation = reference.citation()
    if reference.url:
        citation = f"[{citation}]({reference.url})"
    notation = activation.notation if lang == "zh" else activation.notation_en
    formula_cell = f"${activation.latex}$" + (f" {notation}" if notation else "")
    return [
        (labels["formula"], formula_cell),
        (labels["derivative"], f"${activation.latex_derivative}$"),
        (labels["range"], f"${activation.output_range.latex()}$"),
        (labels["monotonic"], _yes_no(properties.monotonic, labels)),
        (labels["zero_centred"], _yes_no(properties.zero_centred, labels)),
        (labels["smoothness"], _SMOOTHNESS_LATEX[properties.smoothness]),
        (labels["bounded_above"], _yes_no(properties.bounded_above, labels)),
        (labels["bounded_below"], _yes_no(properties.bounded_below, labels)),
        (labels["saturating"], _saturation(activation, labels)),
        (labels["cost"], _cost(activation, lang)),
        (labels["parameters"], _parameters_cell(activation, lang, labels)),
        (labels["onnx"], _onnx_cell(activation.onnx, lang, labels)),
        (labels["reference"], citation),
    ]


def property_table(activation: Activation, lang: Language = "zh") -> MarkdownTable:
    """Return a two-column table (property, value) of `activation`'s metadata."""
    labels = _labels(lang)
    rows = tuple(_property_rows(activation, lang))
    return MarkdownTable(header=(labels["property"], labels["value"]), rows=rows)


def comparison_table(activations: Iterable[Activation], lang: Language = "zh") -> MarkdownTable:
    """Return a table with one row per activation and one column per property."""
    labels = _labels(lang)
    header = (
        labels["name"],
        labels["range"],
        labels["monotonic"],
        labels["zero_centred"],
        labels["smoothness"],
        labels["saturating"],
        labels["cost"],
        labels["onnx"],
    )
    rows = []
    for activation in activations:
        properties = activation.properties
        onnx = "—" if activation.onnx is None else f"`{activation.onnx.name}`"
        rows.append(
            (
                activation.display_name if lang == "zh" else activation.display_name_en,
                f"${activation.output_range.latex()}$",
                _yes_no(properties.monotonic, labels),
                _yes_no(properties.zero_centred, labels),
                _SMOOTHNESS_LATEX[properties.smoothness],
                _saturation(activation, labels),
                _cost(activation, lang),
                onnx,
            )
        )
    return MarkdownTable(header=header, rows=tuple(rows))

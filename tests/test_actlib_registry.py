"""The registry: complete entries, constants, properties, ONNX metadata and displays.

Constants are recomputed with mpmath. ONNX opsets and attribute defaults come from the
operator schemas of the installed onnx package. Properties are checked numerically on
the functions themselves.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import mpmath
import numpy as np
import onnx
import onnx.defs
import pytest
from scipy import integrate, stats

import actlib
from actlib import _gelu, _kernels

EXPECTED_NAMES = [
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "prelu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
]
ENTRIES = list(actlib.REGISTRY.values())
CJK = re.compile(r"[\u4e00-\u9fff]")


def _call(entry: actlib.Activation, function: Any, x: Any) -> Any:
    """Call an entry's function or derivative with its default parameters."""
    if entry.name == "prelu":
        return function(x, 0.25)
    return function(x)


def _forward(entry: actlib.Activation, x: Any) -> Any:
    return _call(entry, entry.function, x)


def _derivative(entry: actlib.Activation, x: Any) -> Any:
    return _call(entry, entry.derivative, x)


def test_registry_keys_in_presentation_order() -> None:
    assert list(actlib.REGISTRY) == EXPECTED_NAMES


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        actlib.REGISTRY["relu"] = actlib.REGISTRY["tanh"]  # type: ignore[index]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_entry_names_in_both_languages(entry: actlib.Activation) -> None:
    assert actlib.REGISTRY[entry.name] is entry
    # Headings start with the abbreviation readers search for ("GELU (tanh)": "GELU").
    abbreviation = entry.short_name.split()[0]
    assert entry.display_name.startswith(abbreviation)
    assert entry.display_name_en.startswith(abbreviation)
    assert CJK.search(entry.display_name)
    assert not CJK.search(entry.display_name_en)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_entry_formulas_state_function_and_derivative(entry: actlib.Activation) -> None:
    assert "(x) =" in entry.latex
    assert "'(x) =" in entry.latex_derivative
    assert bool(entry.notation) == bool(entry.notation_en)
    if entry.notation:
        assert CJK.search(entry.notation)
        assert not CJK.search(entry.notation_en)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_entry_reference_complete(entry: actlib.Activation) -> None:
    reference = entry.reference
    assert reference.authors
    assert reference.title
    assert reference.venue
    assert 1980 <= reference.year <= 2025
    assert reference.url is None or reference.url.startswith("https://")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_entry_callables_evaluate(entry: actlib.Activation) -> None:
    x = np.linspace(-5, 5, 11)
    assert np.all(np.isfinite(_forward(entry, x)))
    assert np.all(np.isfinite(_derivative(entry, x)))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_parameter_defaults_match_function_signature(entry: actlib.Activation) -> None:
    signature = inspect.signature(entry.function)
    for parameter in entry.parameters:
        default = signature.parameters[parameter.name].default
        expected = None if default is inspect.Parameter.empty else default
        assert parameter.default == expected, parameter.name
        assert parameter.description
        assert parameter.description_en
        assert CJK.search(parameter.description)


def test_leaky_relu_framework_defaults_differ() -> None:
    (parameter,) = actlib.get("leaky_relu").parameters
    defaults = {item.api: item.value for item in parameter.framework_defaults}
    assert defaults["torch.nn.LeakyReLU"] == 0.01
    assert defaults["LeakyRelu"] == 0.01
    assert defaults["tf.nn.leaky_relu"] == 0.2
    assert defaults["keras.activations.leaky_relu"] == 0.2
    assert defaults["keras.layers.LeakyReLU"] == 0.3


def test_get_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Unknown activation 'swish'; choose one of sigmoid, "):
        actlib.get("swish")


def test_get_non_string_raises_value_error() -> None:
    with pytest.raises(ValueError, match="Unknown activation"):
        actlib.get(["relu"])  # type: ignore[arg-type]


# --- constants -------------------------------------------------------------------------


def _selu_closed_form() -> tuple[Any, Any]:
    # alpha = -sqrt(2/pi) / (erfc(1/sqrt 2) e^(1/2) - 1) and
    # lambda = (1 - erfc(1/sqrt 2) sqrt(e)) sqrt(2 pi) (2 erfc(sqrt 2) e^2
    #          + pi erfc(1/sqrt 2)^2 e - 2 (2 + pi) erfc(1/sqrt 2) sqrt(e) + pi + 2)^(-1/2)
    # (Klambauer et al., 2017, equations for alpha_01 and lambda_01).
    with mpmath.workprec(200):
        e = mpmath.e
        erfc_half = mpmath.erfc(1 / mpmath.sqrt(2))
        alpha = -mpmath.sqrt(2 / mpmath.pi) / (erfc_half * mpmath.sqrt(e) - 1)
        inner = (
            2 * mpmath.erfc(mpmath.sqrt(2)) * e**2
            + mpmath.pi * erfc_half**2 * e
            - 2 * (2 + mpmath.pi) * erfc_half * mpmath.sqrt(e)
            + mpmath.pi
            + 2
        )
        scale = (1 - erfc_half * mpmath.sqrt(e)) * mpmath.sqrt(2 * mpmath.pi) / mpmath.sqrt(inner)
        return +alpha, +scale


def test_selu_alpha_is_closed_form_rounded() -> None:
    alpha, _ = _selu_closed_form()
    assert float(alpha) == actlib.SELU_ALPHA


def test_selu_scale_is_closed_form_rounded() -> None:
    _, scale = _selu_closed_form()
    assert float(scale) == actlib.SELU_SCALE


def test_selu_product_constant_is_rounded_once() -> None:
    alpha, scale = _selu_closed_form()
    with mpmath.workprec(200):
        assert float(alpha * scale) == _kernels._SELU_SCALE_ALPHA


def test_selu_constants_make_standard_normal_a_fixed_point() -> None:
    # The defining property: E[selu(Z)] = 0 and E[selu(Z)^2] = 1 for Z ~ N(0, 1).
    alpha, scale = _selu_closed_form()
    with mpmath.workprec(200):

        def selu(x: Any) -> Any:
            return scale * x if x > 0 else scale * alpha * mpmath.expm1(x)

        mean = mpmath.quad(lambda x: selu(x) * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
        second = mpmath.quad(lambda x: selu(x) ** 2 * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
        assert abs(mean) < 1e-40
        assert abs(second - 1) < 1e-40


@pytest.mark.parametrize(
    ("name", "minimum"),
    [("gelu", actlib.GELU_MINIMUM), ("gelu_tanh", actlib.GELU_TANH_MINIMUM)],
)
def test_gelu_minimum_from_mpmath(name: str, minimum: float) -> None:
    with mpmath.workprec(200):
        cubic = mpmath.mpf("0.044715")

        def gelu(x: Any) -> Any:
            if name == "gelu":
                return x * mpmath.ncdf(x)
            return x / (1 + mpmath.exp(-2 * mpmath.sqrt(2 / mpmath.pi) * (x + cubic * x**3)))

        argmin = mpmath.findroot(lambda x: mpmath.diff(gelu, x), -0.75)
        assert minimum == float(gelu(argmin))
    assert actlib.get(name).output_range.lower == minimum


def _double_double(value: Any) -> tuple[float, float]:
    high = float(value)
    return high, float(value - high)


def test_gelu_kernel_constants_from_mpmath() -> None:
    with mpmath.workprec(200):
        assert _double_double(mpmath.sqrt(0.5)) == _gelu.SQRT1_2
        assert _double_double(mpmath.sqrt(8 / mpmath.pi)) == _gelu.SQRT_8_OVER_PI
        assert _double_double(mpmath.mpf("0.044715")) == _gelu.TANH_CUBIC
        assert float(1 / mpmath.sqrt(2 * mpmath.pi)) == _gelu.INV_SQRT_2PI
        assert float(1 / mpmath.sqrt(mpmath.pi)) == _gelu.INV_SQRT_PI
        assert float(mpmath.exp(-700)) == _gelu.EXP_MINUS_700


def test_gelu_erfc_table_from_mpmath() -> None:
    with mpmath.workprec(200):
        for offset, row in enumerate(_gelu._ERFC_CENTRES):
            centre = mpmath.mpf(offset + _gelu._FIRST_CENTRE) / 8
            high, low = _double_double(mpmath.erfc(centre))
            density = float(2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-(centre**2)))
            assert tuple(row) == (high, low, density), float(centre)


# --- ONNX ------------------------------------------------------------------------------


def _onnx_versions(name: str) -> tuple[int, ...]:
    versions = {
        schema.since_version
        for schema in onnx.defs.get_all_schemas_with_history()
        if schema.name == name and schema.domain == ""
    }
    return tuple(sorted(versions))


ONNX_ENTRIES = [entry for entry in ENTRIES if entry.onnx is not None]


def test_every_entry_has_an_onnx_operator() -> None:
    assert [entry.name for entry in ONNX_ENTRIES] == EXPECTED_NAMES


@pytest.mark.parametrize("entry", ONNX_ENTRIES, ids=lambda entry: entry.name)
def test_onnx_opsets_match_schema_history(entry: actlib.Activation) -> None:
    assert entry.onnx is not None
    assert entry.onnx.opsets == _onnx_versions(entry.onnx.name)
    assert entry.onnx.introduced == entry.onnx.opsets[0]


@pytest.mark.parametrize("entry", ONNX_ENTRIES, ids=lambda entry: entry.name)
def test_onnx_attribute_defaults_match_schema(entry: actlib.Activation) -> None:
    assert entry.onnx is not None
    schema = onnx.defs.get_schema(entry.onnx.name)
    assert {item.name for item in entry.onnx.attributes} == set(schema.attributes)
    for attribute in entry.onnx.attributes:
        default = onnx.helper.get_attribute_value(schema.attributes[attribute.name].default_value)
        if isinstance(default, bytes):
            assert attribute.default == default.decode()
        else:
            assert np.float32(attribute.default) == np.float32(default)


@pytest.mark.parametrize("entry", ONNX_ENTRIES, ids=lambda entry: entry.name)
def test_onnx_settings_name_real_attributes(entry: actlib.Activation) -> None:
    assert entry.onnx is not None
    names = {item.name for item in entry.onnx.attributes}
    for name, _ in entry.onnx.settings:
        assert name in names


# --- properties ------------------------------------------------------------------------

GRID = np.linspace(-20, 20, 40001)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_monotonic_property_matches_function(entry: actlib.Activation) -> None:
    non_decreasing = bool(np.all(np.diff(_forward(entry, GRID)) >= 0))
    assert entry.properties.monotonic == non_decreasing


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_output_range_contains_function_values(entry: actlib.Activation) -> None:
    output_range = entry.output_range
    values = _forward(entry, np.concatenate([GRID, [-1e6, 1e6]]))
    lower_ok = (
        values >= output_range.lower if output_range.lower_closed else values > output_range.lower
    )
    assert np.all(lower_ok | np.isclose(values, output_range.lower, rtol=0, atol=1e-15))
    assert np.all(values <= output_range.upper)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_bounds_match_output_range(entry: actlib.Activation) -> None:
    properties = entry.properties
    assert properties.bounded_below == np.isfinite(entry.output_range.lower)
    assert properties.bounded_above == np.isfinite(entry.output_range.upper)
    extremes = _forward(entry, np.array([-1e6, 1e6]))
    assert properties.bounded_below == (extremes[0] > -1e3)
    assert properties.bounded_above == (extremes[1] < 1e3)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_saturation_matches_derivative_limits(entry: actlib.Activation) -> None:
    slopes = _derivative(entry, np.array([-1e3, 1e3]))
    assert entry.properties.saturates_negative == (slopes[0] == 0)
    assert entry.properties.saturates_positive == (slopes[1] == 0)
    assert entry.properties.saturating == bool(np.any(slopes == 0))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_smoothness_matches_behaviour_at_zero(entry: actlib.Activation) -> None:
    h = 1e-5
    left, centre, right = _derivative(entry, np.array([-h, 0.0, h]))
    derivative_jumps = abs(right - left) > 1e-3
    second_left = (centre - left) / h
    second_right = (right - centre) / h
    second_jumps = abs(second_right - second_left) > 1e-2
    smoothness = entry.properties.smoothness
    assert derivative_jumps == (smoothness == "C0")
    if smoothness != "C0":
        assert second_jumps == (smoothness == "C1")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_zero_centred_means_zero_standard_normal_mean(entry: actlib.Activation) -> None:
    def integrand(x: float) -> float:
        return float(_forward(entry, x)) * float(stats.norm.pdf(x))

    mean = sum(integrate.quad(integrand, a, b)[0] for a, b in [(-40, 0), (0, 40)])
    if entry.properties.zero_centred:
        assert abs(mean) < 1e-9
    else:
        assert abs(mean) > 0.05


def test_cost_classes_are_known() -> None:
    assert {entry.properties.cost for entry in ENTRIES} <= {"低", "中", "高"}


# --- derivatives at kinks (PyTorch autograd conventions) -----------------------------


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_relu_derivative_at_zero_is_zero(zero: float) -> None:
    assert actlib.relu_grad(zero) == 0.0


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_leaky_relu_derivative_at_zero_is_slope(zero: float) -> None:
    assert actlib.leaky_relu_grad(zero, 0.2) == 0.2


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_prelu_derivative_at_zero_is_slope(zero: float) -> None:
    assert actlib.prelu_grad(zero, 0.3) == 0.3


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_elu_derivative_at_zero_is_alpha(zero: float) -> None:
    assert actlib.elu_grad(zero, 0.5) == 0.5


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_selu_derivative_at_zero_is_scale_times_alpha(zero: float) -> None:
    alpha, scale = _selu_closed_form()
    assert actlib.selu_grad(zero) == float(alpha * scale)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_function_is_zero_at_zero(entry: actlib.Activation) -> None:
    expected = 0.5 if entry.name == "sigmoid" else 0.0
    assert _forward(entry, 0.0) == expected


# --- displays --------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_latex_display_shows_function_and_derivative(entry: actlib.Activation) -> None:
    display = entry._repr_latex_()
    assert display.startswith("$$\n\\begin{aligned}")
    assert display.count("&=") == 2
    assert entry.latex.split("=")[0].strip() in display
    assert entry.latex_derivative.split("=")[0].strip() in display


def test_latex_display_defaults_to_chinese() -> None:
    gelu = actlib.get("gelu")
    assert "标准正态分布" in gelu._repr_latex_()
    assert gelu._repr_latex_() == gelu.formula()._repr_latex_()
    assert "standard normal" in gelu.formula(lang="en")._repr_latex_()


def test_formula_markdown_equals_latex_display() -> None:
    formula = actlib.get("selu").formula()
    assert formula._repr_markdown_() == formula._repr_latex_()
    assert repr(actlib.SELU_ALPHA) in formula.notation


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_property_table_in_chinese_by_default(entry: actlib.Activation) -> None:
    lines = entry.property_table()._repr_markdown_().splitlines()
    assert lines[0] == "| 属性 | 值 |"
    assert lines[1] == "| --- | --- |"
    assert len(lines) == 2 + 13
    assert any(line.startswith("| 值域 |") for line in lines)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_property_table_in_english(entry: actlib.Activation) -> None:
    text = entry.property_table(lang="en")._repr_markdown_()
    assert text.splitlines()[0] == "| Property | Value |"
    assert not CJK.search(text.replace(entry.display_name, ""))


def test_property_table_lists_framework_defaults() -> None:
    text = actlib.get("leaky_relu").property_table(lang="en")._repr_markdown_()
    assert "`keras.layers.LeakyReLU` `negative_slope`=0.3" in text
    assert "`LeakyRelu` (opsets 1, 6, 16)" in text


def test_comparison_table_has_one_row_per_entry() -> None:
    lines = actlib.comparison_table()._repr_markdown_().splitlines()
    assert len(lines) == 2 + len(ENTRIES)
    assert lines[0].startswith("| 名称 |")


def test_comparison_table_selects_names_in_order() -> None:
    table = actlib.comparison_table(["relu", "sigmoid"], lang="en")
    assert [row[0] for row in table.rows] == [
        actlib.get("relu").display_name_en,
        actlib.get("sigmoid").display_name_en,
    ]


@pytest.mark.parametrize("lang", ["fr", "ZH", ""])
def test_unknown_display_language_raises_value_error(lang: str) -> None:
    with pytest.raises(ValueError, match="choose one of 'zh', 'en'"):
        actlib.get("relu").property_table(lang=lang)  # type: ignore[arg-type]

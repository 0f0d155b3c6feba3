"""Compare actlib with the ONNX reference evaluator on every activation that ONNX defines.

Each ONNX operator runs as a one-node model in ``onnx.reference.ReferenceEvaluator``
(onnx 1.23). The inputs are those of ONNX's own node tests, and hard points: zeros, the
smallest normal and subnormal numbers, the exp overflow thresholds of float32 and
float64, infinities and NaN. actlib must match the evaluator within a tolerance stated
per operator in ULPs of the output dtype.

Where the evaluator computes a naive formula that is less accurate than actlib,
``onnx_is_inaccurate`` marks those points with the cause, and there actlib is compared
with mpmath instead. One ``test_onnx_reference_*`` test pins an example of each such
disagreement, so a later onnx release that changes the evaluator fails here and the
list gets updated.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import mpmath
import numpy as np
import onnx
import pytest
from numpy.typing import NDArray
from onnx import TensorProto, helper
from onnx.backend.test.case.node import collect_testcases
from onnx.reference import ReferenceEvaluator

import actlib

# Opset 22 is the first opset that contains the current definition of all eight operators:
# Sigmoid and Tanh (13), Relu (14), LeakyRelu and PRelu (16), Gelu (20), Elu and Selu (22).
OPSET = 22

ONNX_OPS = ("Sigmoid", "Tanh", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Gelu")
FLOAT_DTYPES = (np.float16, np.float32, np.float64)
TENSOR_TYPES = {
    np.dtype(np.float16): TensorProto.FLOAT16,
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
}

# Signed integer types of the same width as float16, float32 and float64.
SIGNED_INTEGERS: dict[int, type[np.signedinteger[Any]]] = {2: np.int16, 4: np.int32, 8: np.int64}

# Accuracy asked of actlib against the correctly rounded result, in ULPs of the output dtype:
# the largest bound that actlib's docstrings state (1 ULP in float16 and float32, 2 to 4 ULP
# in float64 depending on the function). Where the evaluator is accurate, actlib is compared
# with it, so the tolerance there is ACTLIB_ULP plus the evaluator's own error bound below.
ACTLIB_ULP = {np.dtype(np.float16): 1, np.dtype(np.float32): 1, np.dtype(np.float64): 4}

# Error bound of each evaluator formula against the correctly rounded result, in ULPs.
# The numpy bounds are those that numpy's own accuracy tests allow for float32
# (numpy/_core/tests/data/umath-validation-set-*.csv, numpy 2.4): np.exp and np.expm1
# 3 ULP, np.tanh 2 ULP. float16 and float64 are at least as accurate.
ONNX_ULP = {
    # max(x, 0) is exact.
    "Relu": 0,
    # x * slope, with the slope already in x's dtype: one correctly rounded product.
    "PRelu": 0,
    # x * alpha after alpha is rounded to x's dtype: two roundings.
    "LeakyRelu": 1,
    # np.tanh.
    "Tanh": 2,
    # np.exp, then one addition and one division, each rounded once.
    "Sigmoid": 4,
    # np.expm1, then the product with alpha.
    "Elu": 4,
    # np.expm1, then the products with alpha and gamma.
    "Selu": 5,
    # x / sqrt(2), math.erf rounded to float32, 1 + erf, then two products. Where 1 + erf
    # cancels (x < -1), onnx_is_inaccurate hands the point to mpmath.
    "Gelu": 4,
}

# Node-test cases that have no actlib equivalent, with the reason.
UNSUPPORTED_NODE_CASES = {
    "test_prelu_example": "its slope has the full shape of x; actlib.prelu takes a scalar "
    "or a 1-D per-channel slope",
}


# ---------------------------------------------------------------------------------------
# ULP distance and input points


def ordered_integers(values: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """Map floats to integers whose order and differences count ULPs; +0 and -0 map to 0."""
    signed = SIGNED_INTEGERS[values.dtype.itemsize]
    bits = values.view(signed).astype(np.int64)
    magnitude = bits & np.int64(np.iinfo(signed).max)
    ordered: NDArray[np.int64] = np.where(bits < 0, -magnitude, magnitude)
    return ordered


def ulp_distance(
    actual: NDArray[np.floating[Any]], expected: NDArray[np.floating[Any]]
) -> NDArray[np.float64]:
    """Count the floats of the shared dtype between two arrays, element by element.

    Two NaNs are 0 apart, and a NaN is infinitely far from any number.
    """
    # Python integers, because the difference of two float64 orderings overflows int64.
    steps = [
        abs(a - b)
        for a, b in zip(
            ordered_integers(actual).ravel().tolist(),
            ordered_integers(expected).ravel().tolist(),
            strict=True,
        )
    ]
    distance = np.array(steps, dtype=np.float64).reshape(actual.shape)
    actual_nan = np.isnan(actual)
    expected_nan = np.isnan(expected)
    distance[actual_nan & expected_nan] = 0.0
    distance[actual_nan ^ expected_nan] = np.inf
    return distance


def hard_points(dtype: type[np.floating[Any]]) -> NDArray[np.floating[Any]]:
    """Return 0, ±tiny, ±1, ±10, ±20, ±88, ±89, ±100, ±710, ±1e4, ±subnormals, ±inf and NaN.

    88 and 89 bracket the float32 overflow of exp(x), 710 that of float64. All of them
    are finite in float16, whose largest number is 65504.
    """
    info = np.finfo(dtype)
    magnitudes = [
        0.0,
        float(info.smallest_subnormal),
        float(info.tiny) / 2,  # a subnormal halfway up the range
        float(info.tiny),
        *(1.0, 10.0, 20.0, 88.0, 89.0, 100.0, 710.0, 1e4),
        np.inf,
    ]
    points = [sign * m for m in magnitudes for sign in (1.0, -1.0)] + [np.nan]
    return np.array(points, dtype=dtype)


# ---------------------------------------------------------------------------------------
# ONNX side


def onnx_float(value: float) -> float:
    """Round a float as a FLOAT attribute stores it, which is in float32."""
    return float(np.float32(value))


def effective_attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """Return the node's attributes, with the schema defaults for those left unset."""
    schema = onnx.defs.get_schema(node.op_type, OPSET)
    attributes = {
        name: helper.get_attribute_value(attribute.default_value)
        for name, attribute in schema.attributes.items()
        if attribute.default_value.name
    }
    attributes.update({a.name: helper.get_attribute_value(a) for a in node.attribute})
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in attributes.items()}


def one_node_model(
    op_type: str, inputs: Sequence[NDArray[Any]], **attributes: Any
) -> onnx.ModelProto:
    """Build a model of one node ``y = op_type(x[, slope])`` for these input arrays."""
    tensor_type = TENSOR_TYPES[inputs[0].dtype]
    input_names = ["x", "slope"][: len(inputs)]
    node = helper.make_node(op_type, input_names, ["y"], **attributes)
    graph = helper.make_graph(
        [node],
        f"one_{op_type}",
        [
            helper.make_tensor_value_info(name, tensor_type, array.shape)
            for name, array in zip(input_names, inputs, strict=True)
        ],
        [helper.make_tensor_value_info("y", tensor_type, inputs[0].shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model)
    return model


def run_reference(model: onnx.ModelProto, inputs: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """Run a one-node model in the ONNX reference evaluator and return its only output."""
    evaluator = ReferenceEvaluator(model)
    feeds = dict(zip(evaluator.input_names, inputs, strict=True))
    # The evaluator computes both branches of np.where on the whole array: Sigmoid's
    # exp(-x) and Elu's and Selu's expm1(x) overflow on the branch that is then discarded,
    # and Gelu's 0.5 * x * (1 + erf) computes -inf * 0.
    with np.errstate(over="ignore", invalid="ignore"):
        (output,) = evaluator.run(None, feeds)
    return np.asarray(output)


class NodeCase(NamedTuple):
    """One ONNX node-test case: its name, its one-node model and its inputs."""

    name: str
    model: onnx.ModelProto
    inputs: list[NDArray[Any]]

    @property
    def node(self) -> onnx.NodeProto:
        node: onnx.NodeProto = self.model.graph.node[0]
        return node


@functools.cache
def onnx_node_cases() -> tuple[NodeCase, ...]:
    """Collect ONNX's node-test cases whose model is one node of an operator in ONNX_OPS.

    ``collect_testcases`` imports every module under ``onnx/backend/test/case/node`` once
    and runs its ``export*`` functions, which build the inputs and expected outputs. The
    ``*_expanded`` variants, which inline a function body, are left out.
    """
    # Several export functions of other operators (Cast, CastLike, ReduceMax and others
    # in onnx 1.23) overflow on purpose while they build their inputs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # NOTE: the cases accumulate in one module-level list in onnx, so a call with an
        # op_type filter made earlier in the process would limit this one.
        cases = collect_testcases(None)
    return tuple(
        NodeCase(case.name, case.model, [np.asarray(array) for array in case.data_sets[0][0]])
        for case in cases
        if case.model is not None
        and case.data_sets
        and len(case.model.graph.node) == 1
        and case.model.graph.node[0].op_type in ONNX_OPS
    )


# ---------------------------------------------------------------------------------------
# actlib side: the same computation, with ONNX semantics translated to actlib's API


class NoActlibEquivalentError(ValueError):
    """An ONNX node whose inputs or attributes actlib cannot express."""


def prelu_axis(x_shape: tuple[int, ...], slope_shape: tuple[int, ...]) -> int:
    """Return the axis of x along which an ONNX PRelu slope varies.

    ONNX broadcasts the slope unidirectionally, aligned with x's trailing axes: a slope
    of shape (C,) varies along x's last axis, and a per-channel slope for NCHW input has
    shape (C, 1, 1). actlib instead takes a 1-D slope and the axis it runs along.
    """
    varying = [i for i, size in enumerate(slope_shape) if size != 1]
    if len(varying) != 1:
        raise NoActlibEquivalentError(
            f"PRelu slope of shape {slope_shape} varies along {len(varying)} axes; "
            "actlib.prelu takes a slope that varies along one axis"
        )
    return len(x_shape) - len(slope_shape) + varying[0]


def actlib_prelu(x: NDArray[Any], slope: NDArray[Any]) -> NDArray[Any]:
    """Compute ONNX PRelu(x, slope) with actlib.prelu."""
    if slope.size == 1:
        return np.asarray(actlib.prelu(x, slope.reshape(())[()]))
    axis = prelu_axis(x.shape, slope.shape)
    return np.asarray(actlib.prelu(x, slope.ravel(), axis=axis))


def is_default_selu(attributes: dict[str, Any]) -> bool:
    """Tell whether Selu's alpha and gamma are ONNX's defaults."""
    schema = onnx.defs.get_schema("Selu", OPSET)
    return all(
        attributes[name] == schema.attributes[name].default_value.f for name in ("alpha", "gamma")
    )


def run_actlib(node: onnx.NodeProto, inputs: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """Compute what an ONNX node computes, with actlib."""
    attributes = effective_attributes(node)
    x = inputs[0]
    match node.op_type:
        case "Sigmoid":
            y = actlib.sigmoid(x)
        case "Tanh":
            y = actlib.tanh(x)
        case "Relu":
            y = actlib.relu(x)
        case "LeakyRelu":
            y = actlib.leaky_relu(x, negative_slope=attributes["alpha"])
        case "PRelu":
            y = actlib_prelu(x, inputs[1])
        case "Elu":
            y = actlib.elu(x, alpha=attributes["alpha"])
        case "Selu" if is_default_selu(attributes):
            y = actlib.selu(x)
        case "Selu":
            # actlib.selu fixes alpha and gamma, and Selu(x) = gamma * Elu(x, alpha). The
            # product adds one rounding, within the Selu tolerance.
            y = x.dtype.type(attributes["gamma"]) * actlib.elu(x, alpha=attributes["alpha"])
        case "Gelu":
            y = actlib.gelu(x, approximate=attributes["approximate"])
        case _:
            raise NoActlibEquivalentError(f"no actlib function for ONNX op {node.op_type!r}")
    return np.asarray(y)


# ---------------------------------------------------------------------------------------
# mpmath side


def selu_constants() -> tuple[mpmath.mpf, mpmath.mpf]:
    """Return SELU's alpha and scale from their closed forms.

    Klambauer et al. (2017), Self-Normalizing Neural Networks, give alpha_01 and
    lambda_01 as expressions in erfc and e; these agree with the 32-digit values
    1.6732632423543772848170429916717 and 1.0507009873554804934193349852946.
    """
    e = mpmath.e
    erfc_half = mpmath.erfc(1 / mpmath.sqrt(2))
    alpha = -mpmath.sqrt(2 / mpmath.pi) / (erfc_half * mpmath.sqrt(e) - 1)
    scale = (
        (1 - erfc_half * mpmath.sqrt(e))
        * mpmath.sqrt(2 * mpmath.pi)
        / mpmath.sqrt(
            2 * mpmath.erfc(mpmath.sqrt(2)) * e**2
            + mpmath.pi * erfc_half**2 * e
            - 2 * (2 + mpmath.pi) * erfc_half * mpmath.sqrt(e)
            + mpmath.pi
            + 2
        )
    )
    return alpha, scale


def mp_elu(t: mpmath.mpf, alpha: mpmath.mpf) -> mpmath.mpf:
    return t if t > 0 else alpha * mpmath.expm1(t)


def mp_gelu(t: mpmath.mpf, approximate: str) -> mpmath.mpf:
    if t == -mpmath.inf:
        return mpmath.mpf(0)  # the limit, because both formulas below give -inf * 0
    if approximate == "tanh":
        u = mpmath.sqrt(2 / mpmath.pi) * (t + mpmath.mpf("0.044715") * t**3)
        # 0.5 * (1 + tanh(u)) equals 1 / (1 + exp(-2u)), which does not cancel for u << 0.
        return t / (1 + mpmath.exp(-2 * u))
    return t / 2 * mpmath.erfc(-t / mpmath.sqrt(2))


def mp_function(
    node: onnx.NodeProto, inputs: Sequence[NDArray[Any]]
) -> Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]:
    """Return the exact function that actlib evaluates for this node, as f(x, slope)."""
    attributes = effective_attributes(node)
    alpha = mpmath.mpf(attributes.get("alpha", 0.0))
    match node.op_type:
        case "Sigmoid":
            return lambda t, _: 1 / (1 + mpmath.exp(-t))
        case "Tanh":
            return lambda t, _: mpmath.tanh(t)
        case "Relu":
            return lambda t, _: max(t, mpmath.mpf(0))
        case "LeakyRelu":
            # actlib receives alpha after ONNX rounded it to float32, so that is exact here.
            return lambda t, _: t if t > 0 else alpha * t
        case "PRelu":
            return lambda t, slope: t if t > 0 else slope * t
        case "Elu":
            return lambda t, _: mp_elu(t, alpha)
        case "Selu" if is_default_selu(attributes):
            selu_alpha, selu_scale = selu_constants()
            return lambda t, _: selu_scale * mp_elu(t, selu_alpha)
        case "Selu":
            gamma = mpmath.mpf(attributes["gamma"])
            return lambda t, _: gamma * mp_elu(t, alpha)
        case "Gelu":
            return lambda t, _: mp_gelu(t, attributes["approximate"])
        case _:
            raise NoActlibEquivalentError(f"no mpmath recipe for ONNX op {node.op_type!r}")


def mp_reference(node: onnx.NodeProto, inputs: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """Evaluate the node's function in mpmath at 256 bits and round to x's dtype."""
    x = inputs[0]
    slope = np.broadcast_to(inputs[1], x.shape) if node.op_type == "PRelu" else np.zeros_like(x)
    results = []
    with mpmath.workprec(256):
        function = mp_function(node, inputs)
        for t, s in zip(x.ravel().tolist(), slope.ravel().tolist(), strict=True):
            results.append(np.nan if np.isnan(t) else float(function(mpmath.mpf(t), mpmath.mpf(s))))
    # Rounding through float64 first can be off by one ULP in float16 and float32 when the
    # float64 value lands on a midpoint, and the tolerances absorb that. Results beyond
    # the dtype's range round to inf, as IEEE 754 rounding does.
    with np.errstate(over="ignore"):
        return np.array(results, dtype=np.float64).astype(x.dtype).reshape(x.shape)


# ---------------------------------------------------------------------------------------
# Where the ONNX reference evaluator is less accurate than actlib


def onnx_is_inaccurate(node: onnx.NodeProto, x: NDArray[Any]) -> NDArray[np.bool_]:
    """Mark the inputs at which the evaluator's formula is off by more than ONNX_ULP.

    Each case has a ``test_onnx_reference_*`` test below that shows one example.
    """
    attributes = effective_attributes(node)
    nonzero = (x != 0) & ~np.isnan(x)
    inaccurate = np.zeros(x.shape, dtype=np.bool_)

    if node.op_type == "Gelu":
        # 0.5 * x * (1 + erf(x / sqrt(2))) and its tanh form: for x < -1, erf or tanh is
        # near -1 and 1 + erf cancels, so the evaluator loses bits and returns -0.0 where
        # the result is a tiny negative number. At -inf it returns NaN (-inf * 0), but the
        # limit is 0.
        inaccurate |= (x < -1) | np.isneginf(x)
        if x.dtype == np.float64:
            # Erf rounds math.erf to float32 (np.vectorize with otypes="f"), and the tanh
            # form takes sqrt(2 / pi) and 0.044715 as float32 constants.
            inaccurate |= nonzero

    if node.op_type == "Selu" and is_default_selu(attributes) and x.dtype == np.float64:
        # The default alpha and gamma are FLOAT attributes, so in float64 the evaluator
        # computes with their float32 roundings, while actlib uses the exact constants.
        inaccurate |= nonzero

    return inaccurate


# ---------------------------------------------------------------------------------------
# The comparison


def assert_matches_peer(
    node: onnx.NodeProto, inputs: Sequence[NDArray[Any]], onnx_output: NDArray[Any], label: str
) -> None:
    """Assert actlib matches the evaluator, or mpmath where the evaluator is inaccurate."""
    x = inputs[0]
    actlib_output = run_actlib(node, inputs)
    assert actlib_output.dtype == x.dtype, f"{label}: actlib returned {actlib_output.dtype}"
    assert onnx_output.dtype == x.dtype, f"{label}: ONNX returned {onnx_output.dtype}"
    assert actlib_output.shape == onnx_output.shape, f"{label}: shapes differ"

    tolerance = ONNX_ULP[node.op_type] + ACTLIB_ULP[x.dtype]
    inaccurate = onnx_is_inaccurate(node, x)
    expected = np.where(inaccurate, mp_reference(node, inputs), onnx_output)
    allowed = np.where(inaccurate, ACTLIB_ULP[x.dtype], tolerance)
    distance = ulp_distance(actlib_output, expected)
    failed = np.nonzero(distance > allowed)
    rows = [
        f"  x={x[i]!r}: actlib {actlib_output[i]!r}, "
        f"{'mpmath' if inaccurate[i] else 'ONNX'} {expected[i]!r}, {distance[i]:g} ULP"
        for i in zip(*failed, strict=True)
    ]
    assert not rows, f"{label}: actlib differs from its peer by more than allowed:\n" + "\n".join(
        rows[:10]
    )


# ---------------------------------------------------------------------------------------
# Tests: ONNX node-test inputs


def test_node_cases_cover_every_onnx_op() -> None:
    collected = {case.node.op_type for case in onnx_node_cases()}
    assert collected == set(ONNX_OPS)


def test_unsupported_node_cases_exist() -> None:
    names = {case.name for case in onnx_node_cases()}
    assert set(UNSUPPORTED_NODE_CASES) <= names


@pytest.mark.parametrize("op_type", ONNX_OPS)
def test_actlib_matches_onnx_node_cases(op_type: str) -> None:
    cases = [
        case
        for case in onnx_node_cases()
        if case.node.op_type == op_type and case.name not in UNSUPPORTED_NODE_CASES
    ]
    assert cases, f"no ONNX node-test case for {op_type}"
    for case in cases:
        onnx_output = run_reference(case.model, case.inputs)
        assert_matches_peer(case.node, case.inputs, onnx_output, case.name)


# ---------------------------------------------------------------------------------------
# Tests: hard points, with default and non-default attributes

# (test id, op_type, attributes). Non-default values: LeakyRelu 0.2, Elu 0.5, Selu with
# alpha 2 and gamma 3 as in ONNX's own Selu tests.
UNARY_PEERS = [
    ("sigmoid", "Sigmoid", {}),
    ("tanh", "Tanh", {}),
    ("relu", "Relu", {}),
    ("leaky_relu-default", "LeakyRelu", {}),
    ("leaky_relu-alpha0.2", "LeakyRelu", {"alpha": 0.2}),
    ("elu-default", "Elu", {}),
    ("elu-alpha0.5", "Elu", {"alpha": 0.5}),
    ("selu-default", "Selu", {}),
    ("selu-alpha2-gamma3", "Selu", {"alpha": 2.0, "gamma": 3.0}),
    ("gelu-none", "Gelu", {}),
    ("gelu-tanh", "Gelu", {"approximate": "tanh"}),
]


def check_peer(op_type: str, inputs: Sequence[NDArray[Any]], **attributes: Any) -> None:
    """Run a one-node model and actlib on the same inputs and compare them."""
    model = one_node_model(op_type, inputs, **attributes)
    onnx_output = run_reference(model, inputs)
    label = f"{op_type} {attributes} {inputs[0].dtype}"
    assert_matches_peer(model.graph.node[0], inputs, onnx_output, label)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    ("op_type", "attributes"), [p[1:] for p in UNARY_PEERS], ids=[p[0] for p in UNARY_PEERS]
)
def test_actlib_matches_onnx_hard_points(
    op_type: str, attributes: dict[str, Any], dtype: type[np.floating[Any]]
) -> None:
    check_peer(op_type, [hard_points(dtype)], **attributes)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_prelu_scalar_slope_hard_points(dtype: type[np.floating[Any]]) -> None:
    check_peer("PRelu", [hard_points(dtype), np.array([0.25], dtype=dtype)])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_prelu_per_channel_slope_hard_points(dtype: type[np.floating[Any]]) -> None:
    # The hard points run along W of an NCHW tensor with C = 3. ONNX takes the per-channel
    # slope as shape (C, 1, 1), and run_actlib passes it to actlib.prelu as 1-D, axis=1.
    points = hard_points(dtype)
    x = np.broadcast_to(points, (2, 3, 1, points.size)).copy()
    slope = np.array([0.25, 0.1, 3.0], dtype=dtype)

    check_peer("PRelu", [x, slope.reshape(3, 1, 1)])
    # actlib's default axis for x.ndim >= 2 is the channel axis 1.
    assert np.array_equal(actlib.prelu(x, slope), actlib.prelu(x, slope, axis=1), equal_nan=True)


def test_prelu_vector_slope_axes_differ() -> None:
    # ONNX broadcasts a slope of shape (C,) against x's last axis, as numpy does. actlib
    # applies a 1-D slope along `axis`, by default 1. For NCHW input with W == C the two
    # differ, and actlib matches ONNX with axis=3.
    x = np.linspace(-3.0, 3.0, 2 * 3 * 4 * 3, dtype=np.float32).reshape(2, 3, 4, 3)
    slope = np.array([0.25, 0.1, 3.0], dtype=np.float32)
    onnx_output = run_reference(one_node_model("PRelu", [x, slope]), [x, slope])

    assert np.array_equal(actlib.prelu(x, slope, axis=3), onnx_output)
    assert not np.array_equal(actlib.prelu(x, slope), onnx_output)


# ---------------------------------------------------------------------------------------
# Tests: actlib's defaults against the ONNX schema


def default_of(function: Callable[..., Any], parameter: str) -> Any:
    return inspect.signature(function).parameters[parameter].default


def schema_default(op_type: str, attribute: str) -> Any:
    value = onnx.defs.get_schema(op_type, OPSET).attributes[attribute].default_value
    result = helper.get_attribute_value(value)
    return result.decode() if isinstance(result, bytes) else result


def test_leaky_relu_default_slope_is_onnx_alpha() -> None:
    assert onnx_float(default_of(actlib.leaky_relu, "negative_slope")) == schema_default(
        "LeakyRelu", "alpha"
    )


def test_elu_default_alpha_is_onnx_alpha() -> None:
    assert default_of(actlib.elu, "alpha") == schema_default("Elu", "alpha")


def test_selu_constants_round_to_onnx_defaults() -> None:
    assert onnx_float(actlib.SELU_ALPHA) == schema_default("Selu", "alpha")
    assert onnx_float(actlib.SELU_SCALE) == schema_default("Selu", "gamma")


def test_gelu_default_is_onnx_default() -> None:
    assert default_of(actlib.gelu, "approximate") == schema_default("Gelu", "approximate")


# ---------------------------------------------------------------------------------------
# Tests: the evaluator's documented inaccuracies, one example each


def reference_at(
    op_type: str, dtype: type[np.floating[Any]], value: float, **attributes: Any
) -> tuple[float, float]:
    """Return the evaluator's result at one point and the correctly rounded one."""
    x = np.array([value], dtype=dtype)
    model = one_node_model(op_type, [x], **attributes)
    onnx_output = run_reference(model, [x])
    expected = mp_reference(model.graph.node[0], [x])
    return float(onnx_output[0]), float(expected[0])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_onnx_reference_gelu_cancels_below_minus_one(approximate: str) -> None:
    # The true value at -10 is about -7.6e-23 ("none") or -1.2e-37 ("tanh"), both normal
    # float32 numbers; 1 + erf(-10 / sqrt(2)) is exactly 0 in float32.
    onnx_value, exact = reference_at("Gelu", np.float32, -10.0, approximate=approximate)
    assert onnx_value == 0.0
    assert exact < 0.0


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_onnx_reference_gelu_is_nan_at_negative_infinity(approximate: str) -> None:
    onnx_value, exact = reference_at("Gelu", np.float32, -np.inf, approximate=approximate)
    assert np.isnan(onnx_value)
    assert exact == 0.0


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_onnx_reference_gelu_float64_has_float32_accuracy(approximate: str) -> None:
    onnx_value, exact = reference_at("Gelu", np.float64, 1.0, approximate=approximate)
    relative_error = abs(onnx_value - exact) / exact
    assert 1e3 * np.finfo(np.float64).eps < relative_error < 4 * np.finfo(np.float32).eps


def test_onnx_reference_selu_float64_uses_float32_constants() -> None:
    onnx_value, exact = reference_at("Selu", np.float64, 1.0)
    assert onnx_value == schema_default("Selu", "gamma")
    assert onnx_value != exact

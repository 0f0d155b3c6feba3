"""Accuracy of every actlib function and derivative against mpmath.

Reference recipe: mpmath computes each value at 128 bits from the exact binary value of
the input, with a formula that has no cancellation at that precision (noted per case).
The result is compared in units in the last place (ULP) of the result dtype. Near a zero of a
derivative whose terms cancel, the ULP is taken at the magnitude of those terms instead
of at the result.

Contract: float16 and float32 within 1 ULP; float64 within 2 ULP for the functions and
4 ULP for the derivatives, and within 4 ULP for both GELU forms.

Points per dtype (about 2,600): a grid with step 1/15 on [-40, 40], a grid with step
1/100 on [-2, 2], 1,000 inputs spread evenly over the bit patterns of the finite range
(so every binade from the subnormals to the largest value is hit), and the hard points
0, ±tiny, ±1, ±10, ±20, ±88, ±89, ±100, ±710, ±1e4, subnormals and the GELU-specific
points. ±inf and nan are checked separately against the limits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import pytest

import actlib

DTYPES = (np.float16, np.float32, np.float64)
PRECISION_BITS = 128

Mpf = Any
Reference = Callable[[Mpf], Mpf]


def _selu_constants() -> tuple[Mpf, Mpf]:
    """Closed forms of Klambauer et al. (2017), section "Self-normalizing neural networks"."""
    with mpmath.workprec(PRECISION_BITS):
        e = mpmath.e
        erfc_half = mpmath.erfc(1 / mpmath.sqrt(2))
        alpha = -mpmath.sqrt(2 / mpmath.pi) / (erfc_half * mpmath.exp(0.5) - 1)
        inner = (
            2 * mpmath.erfc(mpmath.sqrt(2)) * e**2
            + mpmath.pi * erfc_half**2 * e
            - 2 * (2 + mpmath.pi) * erfc_half * mpmath.sqrt(e)
            + mpmath.pi
            + 2
        )
        scale = (1 - erfc_half * mpmath.sqrt(e)) * mpmath.sqrt(2 * mpmath.pi) / mpmath.sqrt(inner)
    return alpha, scale


SELU_ALPHA_EXACT, SELU_SCALE_EXACT = _selu_constants()
# The decimal constant of the tanh form; converted at the working precision when used.
TANH_CUBIC = "0.044715"


def _logistic(v: Mpf) -> Mpf:
    return 1 / (1 + mpmath.exp(-v))


def _tanh_argument(x: Mpf) -> Mpf:
    """v = 2u with u = √(2/π)(x + 0.044715x³), so that (1 + tanh u)/2 = 1/(1 + e^-v)."""
    return 2 * mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf(TANH_CUBIC) * x**3)


def _tanh_argument_slope(x: Mpf) -> Mpf:
    return 2 * mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * mpmath.mpf(TANH_CUBIC) * x**2)


def _gelu_tanh_grad_terms(x: Mpf) -> tuple[Mpf, Mpf]:
    v = _tanh_argument(x)
    return _logistic(v), x * _logistic(v) * _logistic(-v) * _tanh_argument_slope(x)


def _normal_cdf(x: Mpf) -> Mpf:
    """Φ(x) = erfc(-x/√2)/2 by mpmath.ncdf, which has full relative accuracy for x < 0.

    mpmath's erfc overflows for |x| above about 1e150; beyond |x| = 1000 the leading
    asymptotic term φ(x)/|x| is used instead, because there Φ(x) is either 1 or below
    1e-200000 and rounds to 1 or 0 in every dtype anyway.
    """
    if x > 1000:
        return 1 - mpmath.npdf(x) / x
    if x < -1000:
        return mpmath.npdf(x) / -x
    return mpmath.ncdf(x)


def _piecewise(positive: Reference, negative: Reference) -> Reference:
    """Reference that takes `positive` for x > 0 and `negative` for x <= 0 (PyTorch kinks)."""
    return lambda x: positive(x) if x > 0 else negative(x)


@dataclass(frozen=True)
class Case:
    """One function or derivative with its mpmath reference.

    `scale` returns the magnitude of the terms that cancel (None: the result itself).
    `limits` are the values at -inf and +inf. `float64_ulps` is the float64 contract.
    """

    name: str
    function: Callable[..., Any]
    reference: Reference
    limits: tuple[float, float]
    float64_ulps: float
    scale: Reference | None = None


SLOPE = 0.01
PRELU_SLOPE = 0.1

CASES = (
    # 1/(1 + e^-x) and its derivative as sigmoid(x) * sigmoid(-x) have no subtraction.
    Case("sigmoid", actlib.sigmoid, _logistic, (0.0, 1.0), 2),
    Case(
        "sigmoid_grad", actlib.sigmoid_grad, lambda x: _logistic(x) * _logistic(-x), (0.0, 0.0), 4
    ),
    Case("tanh", actlib.tanh, mpmath.tanh, (-1.0, 1.0), 2),
    Case("tanh_grad", actlib.tanh_grad, lambda x: mpmath.sech(x) ** 2, (0.0, 0.0), 4),
    Case("relu", actlib.relu, _piecewise(lambda x: x, lambda x: 0), (0.0, np.inf), 0.5),
    Case("relu_grad", actlib.relu_grad, _piecewise(lambda x: 1, lambda x: 0), (0.0, 1.0), 0.5),
    # The slope is the binary float64 value of 0.01, which the function receives.
    Case(
        "leaky_relu",
        actlib.leaky_relu,
        _piecewise(lambda x: x, lambda x: mpmath.mpf(SLOPE) * x),
        (-np.inf, np.inf),
        0.5,
    ),
    Case(
        "leaky_relu_grad",
        actlib.leaky_relu_grad,
        _piecewise(lambda x: 1, lambda x: mpmath.mpf(SLOPE)),
        (SLOPE, 1.0),
        0.5,
    ),
    Case(
        "prelu",
        lambda x: actlib.prelu(x, PRELU_SLOPE),
        _piecewise(lambda x: x, lambda x: mpmath.mpf(PRELU_SLOPE) * x),
        (-np.inf, np.inf),
        0.5,
    ),
    Case(
        "prelu_grad",
        lambda x: actlib.prelu_grad(x, PRELU_SLOPE),
        _piecewise(lambda x: 1, lambda x: mpmath.mpf(PRELU_SLOPE)),
        (PRELU_SLOPE, 1.0),
        0.5,
    ),
    Case("elu", actlib.elu, _piecewise(lambda x: x, mpmath.expm1), (-1.0, np.inf), 2),
    Case("elu_grad", actlib.elu_grad, _piecewise(lambda x: 1, mpmath.exp), (0.0, 1.0), 4),
    # SELU with the exact closed-form constants, not their float64 roundings.
    Case(
        "selu",
        actlib.selu,
        _piecewise(
            lambda x: SELU_SCALE_EXACT * x,
            lambda x: SELU_SCALE_EXACT * SELU_ALPHA_EXACT * mpmath.expm1(x),
        ),
        (-float(SELU_SCALE_EXACT * SELU_ALPHA_EXACT), np.inf),
        2,
    ),
    Case(
        "selu_grad",
        actlib.selu_grad,
        _piecewise(
            lambda x: SELU_SCALE_EXACT,
            lambda x: SELU_SCALE_EXACT * SELU_ALPHA_EXACT * mpmath.exp(x),
        ),
        (0.0, float(SELU_SCALE_EXACT)),
        4,
    ),
    Case("gelu", actlib.gelu, lambda x: x * _normal_cdf(x), (-0.0, np.inf), 4),
    Case(
        "gelu_grad",
        actlib.gelu_grad,
        lambda x: _normal_cdf(x) + x * mpmath.npdf(x),
        (0.0, 1.0),
        4,
        scale=lambda x: abs(_normal_cdf(x)) + abs(x * mpmath.npdf(x)),
    ),
    # x/2·(1 + tanh u) is evaluated as x/(1 + e^-2u), which is equal and does not cancel.
    Case(
        "gelu_tanh",
        functools.partial(actlib.gelu, approximate="tanh"),
        lambda x: x * _logistic(_tanh_argument(x)),
        (-0.0, np.inf),
        4,
    ),
    Case(
        "gelu_tanh_grad",
        functools.partial(actlib.gelu_grad, approximate="tanh"),
        lambda x: sum(_gelu_tanh_grad_terms(x)),
        (0.0, 1.0),
        4,
        scale=lambda x: sum(abs(term) for term in _gelu_tanh_grad_terms(x)),
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}

HARD_POINTS = [
    *(0.0, -0.0, 1.0, 10.0, 20.0, 88.0, 89.0, 100.0, 710.0, 1e4),
    # GELU: the zero of f' (-0.7518), the edges of the float64 kernel's regions
    # (-0.663, -4.243), the subnormal band (-37.5 to -38.6) and the tanh form's
    # underflow (-21.3 to -21.9).
    *(-0.7517915246935645, -0.6629126073623883, -4.242640687119285, -5.0, -30.0),
    *(-37.5, -37.6, -38.0, -38.5, -38.6, -21.3, -21.6, -21.9),
]


def _bit_uniform(dtype: type[np.floating[Any]], count: int) -> np.ndarray:
    """Return `count` positive finite values of `dtype` spread evenly over its bit patterns."""
    unsigned = {2: np.uint16, 4: np.uint32, 8: np.uint64}[np.dtype(dtype).itemsize]
    largest = np.array(np.finfo(dtype).max, dtype=dtype).view(unsigned)
    patterns = np.linspace(1, int(largest), count, dtype=np.float64).astype(unsigned)
    return patterns.view(dtype).astype(np.float64)


@functools.cache
def _all_points() -> np.ndarray:
    """Return every candidate input as float64; each dtype tests those it represents."""
    magnitudes = [
        np.arange(641) / 16,  # step 1/16 on [0, 40], exact in float16
        np.arange(257) / 128,  # step 1/128 on [0, 2]
        np.abs(HARD_POINTS),
    ]
    for dtype in DTYPES:
        finfo = np.finfo(dtype)
        magnitudes.append(_bit_uniform(dtype, 300))
        magnitudes.append([finfo.tiny, finfo.smallest_subnormal, 3 * finfo.smallest_subnormal])
    positive = np.concatenate(magnitudes)
    return np.unique(np.concatenate([positive, -positive, HARD_POINTS]))


@functools.cache
def points(dtype: type[np.floating[Any]]) -> np.ndarray:
    """Return the finite inputs exactly representable in `dtype`, as float64."""
    candidates = _all_points()
    candidates = candidates[np.abs(candidates) <= np.finfo(dtype).max]
    return candidates[candidates.astype(dtype).astype(np.float64) == candidates]


@functools.cache
def reference(name: str, x: float) -> tuple[float, float, float, int, int]:
    """Return case `name` at `x` as (nearest float64, high, low, exponent, scale exponent).

    The mpmath value equals ``(high + low) * 2**exponent`` to about 106 bits, with
    ``0.5 <= |high| < 1``. The ULP is taken in the binade ``2**(scale exponent - 1)`` of
    the magnitude that the case measures against.
    """
    case = CASES_BY_NAME[name]
    with mpmath.workprec(PRECISION_BITS):
        argument = mpmath.mpf(x)
        value = mpmath.mpf(case.reference(argument))
        magnitude = abs(value) if case.scale is None else case.scale(argument)
        mantissa, exponent = mpmath.frexp(value)
        high = float(mantissa)
        low = float(mantissa - high)
        _, scale_exponent = mpmath.frexp(magnitude)
    # Exponents such as that of exp(-1e300) are far outside every dtype; clamping keeps
    # them in int64 and changes no verdict.
    limit = 1 << 20
    clamp = functools.partial(np.clip, a_min=-limit, a_max=limit)
    return float(value), high, low, int(clamp(exponent)), int(clamp(scale_exponent))


def ulp_errors(
    name: str, dtype: type[np.floating[Any]], xs: np.ndarray, ys: np.ndarray
) -> np.ndarray:
    """Return |y - f(x)| in ULPs of `dtype` at the reference magnitude; inf if y is wrong."""
    finfo = np.finfo(dtype)
    nearest, high, low, exponent, scale_exponent = np.array(
        [reference(name, x) for x in xs.tolist()]
    ).T
    smallest_exponent = int(np.log2(finfo.smallest_subnormal))
    # References far below the smallest subnormal only need y == 0 (or one subnormal).
    floor = smallest_exponent - 30
    negligible = (exponent < floor) | (high == 0)
    high[negligible] = 0.0
    low[negligible] = 0.0
    exponent = np.maximum(exponent, floor).astype(int)
    ulp_exponent = np.maximum(
        np.maximum(scale_exponent, floor) - 1 - finfo.nmant, smallest_exponent
    )

    with np.errstate(over="ignore", invalid="ignore"):
        # Results far from the reference may overflow when scaled: that is an error anyway.
        scaled = np.ldexp(ys, -exponent)
        errors = np.abs((scaled - high) - low) / np.ldexp(
            1.0, (ulp_exponent - exponent).astype(int)
        )
    errors[~np.isfinite(ys) | ~np.isfinite(errors)] = np.inf

    # From the largest finite value plus half its ULP on, the result must be ±inf.
    overflow = (
        float(finfo.max) + 2.0 ** (finfo.maxexp - finfo.nmant - 2)
        if dtype is not np.float64
        else np.inf
    )
    overflows = np.abs(nearest) >= overflow
    errors[overflows] = np.where(
        ys[overflows] == np.copysign(np.inf, nearest[overflows]), 0.0, np.inf
    )
    return errors


def contract_ulps(case: Case, dtype: type[np.floating[Any]]) -> float:
    return case.float64_ulps if dtype is np.float64 else 1.0


def evaluate(case: Case, dtype: type[np.floating[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Return the test inputs of `dtype` and the results, both as float64."""
    xs = points(dtype)
    ys = case.function(xs.astype(dtype))
    return xs, ys.astype(np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_max_ulp_error_within_contract(case: Case, dtype: type[np.floating[Any]]) -> None:
    xs, ys = evaluate(case, dtype)
    errors = ulp_errors(case.name, dtype, xs, ys)
    worst = int(np.argmax(errors))
    nearest = reference(case.name, float(xs[worst]))[0]
    assert errors[worst] <= contract_ulps(case, dtype), (
        f"{case.name}({xs[worst]!r}) = {ys[worst]!r} in {np.dtype(dtype).name}, "
        f"expected {nearest!r}: {errors[worst]:.2f} ULP"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_result_keeps_dtype(case: Case, dtype: type[np.floating[Any]]) -> None:
    assert case.function(points(dtype).astype(dtype)).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_infinities_give_limits(case: Case, dtype: type[np.floating[Any]]) -> None:
    result = case.function(np.array([-np.inf, np.inf], dtype=dtype))
    np.testing.assert_array_equal(result, np.array(case.limits, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_negative_infinity_gives_negative_zero(approximate: str, dtype: type) -> None:
    # GELU approaches 0 from below; -inf * 0 must not leak out as nan or +0.
    result = actlib.gelu(np.array([-np.inf], dtype=dtype), approximate=approximate)
    assert result[0] == 0
    assert np.signbit(result[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_nan_gives_nan(case: Case, dtype: type[np.floating[Any]]) -> None:
    assert np.isnan(case.function(np.array([np.nan], dtype=dtype)))[0]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_far_negative_not_flushed_to_zero(approximate: str) -> None:
    # Below these x the true values round to -0 in float64: x·Φ(x) at -38.58 and the
    # tanh form at -21.547 are -2**-1075, half the smallest subnormal.
    lower = -38.5 if approximate == "none" else -21.5
    xs = np.linspace(lower, -1e-3, 2001)
    result = actlib.gelu(xs, approximate=approximate)
    assert np.all(result < 0)


def test_gelu_grad_zero_uses_term_magnitude() -> None:
    # GELU' vanishes at x ≈ -0.75179; the reference magnitude there is |Φ| + |xφ| ≈ 0.45,
    # far above |GELU'| itself, so the test above allows cancellation but no more.
    x = -0.7517915246935645
    nearest, _, _, _, scale_exponent = reference("gelu_grad", x)
    assert abs(nearest) < 1e-15
    assert scale_exponent == -1  # |Φ| + |xφ| lies in [1/4, 1/2)


SMOOTH_DERIVATIVES = {
    "sigmoid_grad": "sigmoid",
    "tanh_grad": "tanh",
    "gelu_grad": "gelu",
    "gelu_tanh_grad": "gelu_tanh",
    "elu_grad": "elu",
    "selu_grad": "selu",
}


@pytest.mark.parametrize("derivative", sorted(SMOOTH_DERIVATIVES))
def test_derivative_references_match_numerical_derivative(derivative: str) -> None:
    # Checks the closed-form derivative references themselves with mpmath.diff on the
    # function references, away from the kinks at 0.
    function = CASES_BY_NAME[SMOOTH_DERIVATIVES[derivative]].reference
    closed_form = CASES_BY_NAME[derivative].reference
    with mpmath.workprec(PRECISION_BITS):
        for x in (-12.5, -3.25, -0.75, -0.125, 0.375, 1.5, 7.0):
            numerical = mpmath.diff(function, mpmath.mpf(x))
            assert abs(numerical - closed_form(mpmath.mpf(x))) <= 1e-25 * (1 + abs(numerical))

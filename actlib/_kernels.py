"""Element-wise kernels for every activation except GELU (see `_gelu`) and PReLU.

A kernel has the signature ``kernel(x, out)``: both are 1-D C-contiguous arrays of equal
length that do not overlap. Float kernels receive float64; "native" kernels (marked so in
`_functions`) receive the result dtype, because their results are exact in any dtype,
and often the whole array at once, so they make no temporary array wider than a mask.
No kernel raises a floating-point warning for any input, including ±inf and nan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from actlib._doubledouble import fast_two_sum, two_square

__all__ = [
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "elu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_grad_low_precision",
    "sigmoid_low_precision",
    "tanh",
    "tanh_grad",
    "tanh_grad_low_precision",
]

FloatArray = npt.NDArray[np.floating]
Float64Array = npt.NDArray[np.float64]

# Closed forms from Klambauer et al. (2017), evaluated with mpmath at 200 bits and
# rounded to float64; tests/test_actlib_registry.py recomputes them.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
# λα from the closed form (not the product of the two rounded constants above, which rounds
# one ULP lower), so that the negative branch rounds one constant instead of two.
_SELU_SCALE_ALPHA = 1.7580993408473768

# exp(-x) is 0 in float64 beyond this; clipping keeps 2*|x| finite.
_EXP_ARGUMENT_LIMIT = 800.0


def _minimum_with_zero(x: FloatArray, out: FloatArray) -> None:
    """Write min(x, 0), keeping nan.

    NumPy's minimum and maximum against an array of zeros are several times faster than
    against the scalar 0 (measured with NumPy 2.4 on x86-64, 32k-element blocks).
    """
    out.fill(0.0)
    np.minimum(x, out, out=out)


def _is_positive(x: FloatArray, dtype: np.dtype[np.floating] | type) -> FloatArray:
    """Return 1.0 where x > 0 and 0.0 elsewhere (nan included), in `dtype`.

    Kernels blend branches with it as ``b * p + (1 - b) * q``, which is exact because b
    is 0 or 1, and which is several times faster than ``np.where`` with scalars or a
    ufunc with ``where=`` on mixed signs.
    """
    positive: FloatArray = (x > 0).astype(dtype)
    return positive


def sigmoid(x: Float64Array, out: Float64Array) -> None:
    """Write σ(x) as ``1/(1 + t)`` for x >= 0 and ``t/(1 + t)`` for x < 0, t = e^-|x|.

    Both branches are one division of ``exp(min(x, 0))`` by ``1 + exp(-|x|)``, with no
    selection. `scipy.special.expit` uses the same two forms but returns 0 below
    x = -709.78, where the result is still a representable subnormal (σ(-745) = 5e-324).
    """
    denominator = np.abs(x)
    np.negative(denominator, out=denominator)
    np.exp(denominator, out=denominator)
    denominator += 1.0
    _minimum_with_zero(x, out)
    np.exp(out, out=out)
    out /= denominator


def sigmoid_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write σ(x) with `scipy.special.expit`, whose cutoff at -709.78 is beyond float32."""
    special.expit(x, out=out)


def _logistic_density(t: Float64Array, out: Float64Array) -> None:
    """Write ``t / (1 + t)**2`` for ``0 <= t <= 1``, with the denominator in double-double.

    Only the rounding of `t` itself (one exp) and of the final two operations remain,
    so the result is within about 2 ULP.
    """
    total, total_error = fast_two_sum(1.0, t)
    square, square_error = two_square(total)
    # Relative error of the rounded square against (total + total_error)**2.
    square_error += 2.0 * total * total_error
    square_error /= square
    np.divide(t, square, out=out)
    np.subtract(1.0, square_error, out=square_error)
    out *= square_error


def sigmoid_grad(x: Float64Array, out: Float64Array) -> None:
    """Write σ'(x) = σ(x)σ(-x) as ``t/(1+t)**2`` with ``t = exp(-|x|)``."""
    t = np.exp(-np.abs(x))
    _logistic_density(t, out)


def sigmoid_grad_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write σ'(x) like `sigmoid_grad`, without the double-double denominator."""
    t = np.exp(-np.abs(x))
    np.divide(t, np.square(1.0 + t), out=out)


def tanh(x: Float64Array, out: Float64Array) -> None:
    """Write tanh(x) with `numpy.tanh`."""
    np.tanh(x, out=out)


def tanh_grad(x: Float64Array, out: Float64Array) -> None:
    """Write tanh'(x) = sech²(x) as ``4t/(1+t)**2`` with ``t = exp(-2|x|)``.

    The usual ``1 - tanh(x)**2`` loses all digits once tanh(x) rounds to ±1 (|x| > 19).
    """
    magnitude = np.minimum(np.abs(x), _EXP_ARGUMENT_LIMIT)
    t = np.exp(-2.0 * magnitude)
    _logistic_density(t, out)
    out *= 4.0


def tanh_grad_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write tanh'(x) like `tanh_grad`, without the double-double denominator."""
    magnitude = np.minimum(np.abs(x), _EXP_ARGUMENT_LIMIT)
    t = np.exp(-2.0 * magnitude)
    np.divide(4.0 * t, np.square(1.0 + t), out=out)


def _tie_takes_second(select: Callable[..., Any], dtype: type[np.floating[Any]]) -> bool:
    """Return whether `select` (np.maximum or np.minimum) returns its second zero on a tie."""
    tie = select(np.array([-0.0], dtype=dtype), np.array([0.0], dtype=dtype))
    return not bool(np.signbit(tie[0]))


# On a -0/+0 tie np.maximum and np.minimum return one of their two arguments, and which
# one depends on the dtype's loop (NumPy 2.4: the first in float16, the second in float32
# and float64, for every array length). Probing once per dtype lets the kernels pick the
# argument order so that the zero the formula gives wins, at no cost per call.
_TIE_TAKES_SECOND: dict[tuple[str, np.dtype[Any]], bool] = {
    (select.__name__, np.dtype(t)): _tie_takes_second(select, t)
    for select in (np.maximum, np.minimum)
    for t in (np.float16, np.float32, np.float64)
}


def select_keeping_second(
    select: Callable[..., Any],
    first: npt.NDArray[Any],
    second: npt.NDArray[Any],
    out: FloatArray,
) -> None:
    """Write ``select(first, second)`` into `out`, taking `second` where both are zeros."""
    if _TIE_TAKES_SECOND[select.__name__, out.dtype]:
        select(first, second, out=out)
    else:
        select(second, first, out=out)


def relu(x: FloatArray, out: FloatArray) -> None:
    """Write max(x, 0) in the input dtype; nan stays nan and relu(-0) is +0."""
    # Two arrays take NumPy's fastest loop: max(x, 0.0) with a scalar is about twice as
    # slow as filling `out` and comparing array with array.
    out.fill(0.0)
    select_keeping_second(np.maximum, x, out, out)


def relu_grad(x: FloatArray, out: FloatArray) -> None:
    """Write 1 for x > 0, 0 for x <= 0 and nan for nan, in the input dtype.

    ``ceil(clip(x, 0, 1))`` takes two passes, and both keep nan; ``x > 0`` would need a
    third pass to put the nan back. At x = -0 the result is -0, which equals 0;
    turning it into +0 would take a third pass.
    """
    np.clip(x, 0, 1, out=out)
    np.ceil(out, out=out)


def leaky_relu(x: Float64Array, out: Float64Array, *, negative_slope: float) -> None:
    """Write x for x > 0 and ``negative_slope * x`` otherwise (one rounding in float64).

    For a slope up to 1 the result is max(x, slope·x), for a slope above 1 it is
    min(x, slope·x); both keep nan.
    """
    if negative_slope == 0.0:
        # Avoid -inf * 0; a zero slope is ReLU.
        relu(x, out)
        return
    with np.errstate(over="ignore"):
        # A slope above 1 overflows only where the true value exceeds float64.
        np.multiply(x, negative_slope, out=out)
    if negative_slope <= 1.0:
        np.maximum(x, out, out=out)
    else:
        np.minimum(x, out, out=out)


def leaky_relu_grad(x: FloatArray, out: FloatArray, *, negative_slope: float) -> None:
    """Write 1 for x > 0, `negative_slope` for x <= 0 and nan for nan, in the input dtype."""
    with np.errstate(over="ignore"):
        # A slope beyond the float16 range rounds to inf, its correctly rounded value.
        slope = out.dtype.type(negative_slope)
    if slope == 0:
        relu_grad(x, out)
    elif 0 < slope <= 1:
        # ceil(x) is at least 1 for x > 0 and at most 0 for x <= 0, so clipping it to
        # [slope, 1] gives 1 or the slope, and keeps nan.
        np.ceil(x, out=out)
        np.clip(out, slope, 1, out=out)
    else:
        # Slopes outside [0, 1]: select, then put back the nan that x > 0 drops.
        out.fill(slope)
        np.copyto(out, 1, where=x > 0)
        np.copyto(out, x, where=np.isnan(x))


def elu(x: Float64Array, out: Float64Array, *, alpha: float) -> None:
    """Write x for x > 0 and ``alpha * expm1(x)`` otherwise, as max(x, 0) + that.

    One of the two terms is always 0, so the sum is exact.
    """
    _minimum_with_zero(x, out)
    np.expm1(out, out=out)
    if alpha != 1.0:
        out *= alpha
    positive_part = np.zeros_like(x)
    np.maximum(x, positive_part, out=positive_part)
    out += positive_part


def elu_grad(x: Float64Array, out: Float64Array, *, alpha: float) -> None:
    """Write 1 for x > 0 and ``alpha * exp(x)`` for x <= 0 (PyTorch's convention at 0).

    exp(min(x, 0)) is already 1 for x > 0, so it is scaled by 1 there and by alpha
    elsewhere.
    """
    _minimum_with_zero(x, out)
    np.exp(out, out=out)
    if alpha != 1.0:
        positive = _is_positive(x, np.float64)
        positive += (1.0 - positive) * alpha
        out *= positive


def selu(x: Float64Array, out: Float64Array) -> None:
    """Write ``scale * x`` for x > 0 and ``scale * alpha * expm1(x)`` otherwise."""
    _minimum_with_zero(x, out)
    np.expm1(out, out=out)
    out *= _SELU_SCALE_ALPHA
    positive_part = np.zeros_like(x)
    np.maximum(x, positive_part, out=positive_part)
    with np.errstate(over="ignore"):
        # scale * x overflows only where the true value exceeds float64: inf is right.
        positive_part *= SELU_SCALE
    out += positive_part


def selu_grad(x: Float64Array, out: Float64Array) -> None:
    """Write `scale` for x > 0 and ``scale * alpha * exp(x)`` for x <= 0 (PyTorch at 0).

    exp(min(x, 0)) is 1 for x > 0, so each branch is one multiplication.
    """
    positive = _is_positive(x, np.float64)
    factor = positive * SELU_SCALE
    factor += (1.0 - positive) * _SELU_SCALE_ALPHA
    _minimum_with_zero(x, out)
    np.exp(out, out=out)
    out *= factor

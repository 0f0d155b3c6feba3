# ruff: noqa: RUF002 -- docstrings use the Greek letters of the formulas.
"""Element-wise kernels for every activation except GELU (see `_gelu`) and PReLU.

A kernel has the signature ``kernel(x, out)``: both are 1-D C-contiguous arrays of equal
length that do not overlap. Float kernels receive float64; "native" kernels (marked so in
`_functions`) receive the result dtype, because their results are exact in any dtype.
No kernel raises a floating-point warning for any input, including ±inf and nan.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from actlib._doubledouble import fast_two_sum, two_prod

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
# SELU_SCALE * SELU_ALPHA rounded once from the exact product, so that the negative
# branch rounds one constant instead of two.
_SELU_SCALE_ALPHA = 1.7580993408473768

# exp(-x) is 0 in float64 beyond this; clipping keeps 2*|x| finite.
_EXP_ARGUMENT_LIMIT = 800.0


def sigmoid(x: Float64Array, out: Float64Array) -> None:
    """Write σ(x) as ``1/(1 + t)`` for x >= 0 and ``t/(1 + t)`` for x < 0, t = e^-|x|.

    `scipy.special.expit` uses the same two forms but returns 0 below x = -709.78, where
    the result is still a representable subnormal (σ(-745) = 5e-324).
    """
    t = np.abs(x)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.add(t, 1.0, out=out)
    np.copyto(t, 1.0, where=x >= 0)
    np.divide(t, out, out=out)


def sigmoid_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write σ(x) with `scipy.special.expit`, whose cutoff at -709.78 is beyond float32."""
    special.expit(x, out=out)


def _logistic_density(t: Float64Array, out: Float64Array) -> None:
    """Write ``t / (1 + t)**2`` for ``0 <= t <= 1``, with the denominator in double-double.

    Only the rounding of `t` itself (one exp) and of the final two operations remain,
    so the result is within about 2 ULP.
    """
    total, total_error = fast_two_sum(1.0, t)
    square, square_error = two_prod(total, total)
    relative_error = (square_error + 2.0 * total * total_error) / square
    np.divide(t, square, out=out)
    out *= 1.0 - relative_error


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


def relu(x: FloatArray, out: FloatArray) -> None:
    """Write max(x, 0) in the input dtype; nan stays nan."""
    np.maximum(x, 0, out=out)


def relu_grad(x: FloatArray, out: FloatArray) -> None:
    """Write 1 for x > 0, 0 for x <= 0 and nan for nan, in the input dtype."""
    np.heaviside(x, 0, out=out)


def leaky_relu(x: Float64Array, out: Float64Array, *, negative_slope: float) -> None:
    """Write x for x > 0 and ``negative_slope * x`` otherwise (one rounding in float64)."""
    if negative_slope == 0.0:
        # Avoid -inf * 0; a zero slope is ReLU.
        np.maximum(x, 0.0, out=out)
        return
    with np.errstate(over="ignore"):
        # A slope above 1 overflows only where the true value exceeds float64.
        np.multiply(x, negative_slope, out=out)
    np.copyto(out, x, where=x > 0)


def leaky_relu_grad(x: FloatArray, out: FloatArray, *, negative_slope: float) -> None:
    """Write 1 for x > 0, `negative_slope` for x <= 0 and nan for nan, in the input dtype."""
    np.heaviside(x, 0, out=out)
    with np.errstate(over="ignore"):
        # A slope beyond the float16 range rounds to inf, its correctly rounded value.
        np.copyto(out, negative_slope, where=out == 0)


def elu(x: Float64Array, out: Float64Array, *, alpha: float) -> None:
    """Write x for x > 0 and ``alpha * expm1(x)`` otherwise."""
    np.minimum(x, 0.0, out=out)
    np.expm1(out, out=out)
    if alpha != 1.0:
        out *= alpha
    np.copyto(out, x, where=x > 0)


def elu_grad(x: Float64Array, out: Float64Array, *, alpha: float) -> None:
    """Write 1 for x > 0 and ``alpha * exp(x)`` for x <= 0 (PyTorch's convention at 0)."""
    np.minimum(x, 0.0, out=out)
    np.exp(out, out=out)
    if alpha != 1.0:
        out *= alpha
    np.copyto(out, 1.0, where=x > 0)


def selu(x: Float64Array, out: Float64Array) -> None:
    """Write ``scale * x`` for x > 0 and ``scale * alpha * expm1(x)`` otherwise."""
    np.minimum(x, 0.0, out=out)
    np.expm1(out, out=out)
    out *= _SELU_SCALE_ALPHA
    with np.errstate(over="ignore"):
        # scale * x overflows only where the true value exceeds float64: inf is right.
        np.multiply(x, SELU_SCALE, out=out, where=x > 0)


def selu_grad(x: Float64Array, out: Float64Array) -> None:
    """Write `scale` for x > 0 and ``scale * alpha * exp(x)`` for x <= 0 (PyTorch at 0)."""
    np.minimum(x, 0.0, out=out)
    np.exp(out, out=out)
    out *= _SELU_SCALE_ALPHA
    np.copyto(out, SELU_SCALE, where=x > 0)

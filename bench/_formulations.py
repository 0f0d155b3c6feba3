"""The benchmarked functions: actlib's call, numpy/scipy peer formulations, the exact value.

Every call takes ``(x, slope)``. x has the channel axis 1, and slope is PReLU's 1-D
per-channel slope along it; the other functions ignore slope.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from _accuracy import MpFunction
from numpy.typing import NDArray
from scipy import special

import actlib

Array = NDArray[Any]
# actlib returns a numpy scalar for 0-d input, so its calls may return one.
Result = Array | np.floating[Any]
Call = Callable[[Array, Array], Result]
OutCall = Callable[[Array, Array, Array], Result]

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0
# SELU's constants as torch.nn.SELU's documentation gives them, to 32 digits.
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"
GELU_CUBIC = "0.044715"
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class Formulation:
    """A numpy/scipy way to compute a function, with a label for the table."""

    label: str
    call: Call
    # A float64 detour, pointless for float64 input.
    narrow_only: bool = False


@dataclass(frozen=True)
class BenchFunction:
    """An activation or its derivative, with everything needed to time and check it."""

    name: str
    activation: str
    actlib: Call
    actlib_out: OutCall
    peers: tuple[Formulation, ...]
    exact: MpFunction
    # The derivative at 0 is a convention (ReLU's family), so 0 is left out of the check.
    kink_at_zero: bool = False
    # The magnitude of the terms that cancel near a zero of the exact function: errors
    # count in its ULPs there (see _accuracy.max_ulp_error). None: no such zero.
    magnitude: MpFunction | None = None

    def peers_for(self, dtype: type[np.floating[Any]]) -> tuple[Formulation, ...]:
        """Return the peers that make sense for input of dtype."""
        return tuple(p for p in self.peers if not (p.narrow_only and dtype is np.float64))


def via_float64(formulation: Formulation) -> Formulation:
    """Compute in float64 and round to x's dtype."""

    def call(x: Array, slope: Array) -> Result:
        wide = np.asarray(formulation.call(x.astype(np.float64), slope.astype(np.float64)))
        return wide.astype(x.dtype)

    return Formulation(f"{formulation.label} in float64", call, narrow_only=True)


def channel(slope: Array) -> Array:
    """Reshape a per-channel slope to broadcast along axis 1 of a 3-D x."""
    return slope[:, np.newaxis]


def sigmoid_grad_one_exp(x: Array, _: Array) -> Array:
    e = np.exp(-np.abs(x))
    result: Array = e / ((1 + e) * (1 + e))
    return result


def sigmoid_grad_naive(x: Array, _: Array) -> Array:
    s = special.expit(x)
    result: Array = s * (1 - s)
    return result


def tanh_grad_one_exp(x: Array, _: Array) -> Array:
    e = np.exp(-2 * np.abs(x))
    result: Array = 4 * e / ((1 + e) * (1 + e))
    return result


def mp_sigmoid(t: mpmath.mpf) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-t))


# At ±inf the GELU formulas give inf * 0, so these functions return the limits there.


def mp_gelu(t: mpmath.mpf) -> mpmath.mpf:
    if mpmath.isinf(t):
        return t if t > 0 else mpmath.mpf(0)
    return t / 2 * mpmath.erfc(-t / mpmath.sqrt(2))


def mp_gelu_grad_terms(t: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    """Return Φ(t) and t·φ(t), whose sum GELU'(t) vanishes at t ≈ -0.7518."""
    return mpmath.erfc(-t / mpmath.sqrt(2)) / 2, t * mpmath.exp(-(t**2) / 2) / mpmath.sqrt(
        2 * mpmath.pi
    )


def mp_gelu_grad(t: mpmath.mpf) -> mpmath.mpf:
    if mpmath.isinf(t):
        return mpmath.mpf(1 if t > 0 else 0)
    return sum(mp_gelu_grad_terms(t))


def mp_gelu_tanh(t: mpmath.mpf) -> mpmath.mpf:
    if mpmath.isinf(t):
        return t if t > 0 else mpmath.mpf(0)
    return t * mp_sigmoid(2 * mp_gelu_tanh_argument(t))


def mp_gelu_tanh_argument(t: mpmath.mpf) -> mpmath.mpf:
    return mpmath.sqrt(2 / mpmath.pi) * (t + mpmath.mpf(GELU_CUBIC) * t**3)


def mp_gelu_tanh_grad_terms(t: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    # d/dx [x * sigmoid(2u)] = sigmoid(2u) + 2 x u' sigmoid(2u) sigmoid(-2u), where
    # 0.5 * (1 + tanh(u)) = sigmoid(2u) avoids the cancellation of 1 + tanh(u) for u << 0.
    u = mp_gelu_tanh_argument(t)
    du = mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * mpmath.mpf(GELU_CUBIC) * t**2)
    return mp_sigmoid(2 * u), 2 * t * du * mp_sigmoid(2 * u) * mp_sigmoid(-2 * u)


def mp_gelu_tanh_grad(t: mpmath.mpf) -> mpmath.mpf:
    if mpmath.isinf(t):
        return mpmath.mpf(1 if t > 0 else 0)
    return sum(mp_gelu_tanh_grad_terms(t))


def mp_term_magnitude(
    terms: Callable[[mpmath.mpf], tuple[mpmath.mpf, mpmath.mpf]],
) -> MpFunction:
    """Return the function t, _ -> |a| + |b| for the two terms (a, b) that terms(t) gives."""
    return lambda t, _: sum(abs(term) for term in terms(t))


def gelu_tanh_argument(x: Array) -> Array:
    cubic = x.dtype.type(float(GELU_CUBIC))
    result: Array = x.dtype.type(SQRT_2_OVER_PI) * (x + cubic * x * x * x)
    return result


def gelu_tanh_grad_stable(x: Array, _: Array) -> Array:
    two_u = 2 * gelu_tanh_argument(x)
    du = x.dtype.type(SQRT_2_OVER_PI) * (1 + 3 * x.dtype.type(float(GELU_CUBIC)) * x * x)
    p = special.expit(two_u)
    result: Array = p + 2 * x * du * p * special.expit(-two_u)
    return result


def gelu_tanh_grad_naive(x: Array, _: Array) -> Array:
    t = np.tanh(gelu_tanh_argument(x))
    du = x.dtype.type(SQRT_2_OVER_PI) * (1 + 3 * x.dtype.type(float(GELU_CUBIC)) * x * x)
    result: Array = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
    return result


def selu_negative(x: Array, scale: float, alpha: float) -> Array:
    result: Array = x.dtype.type(scale * alpha) * np.expm1(np.minimum(x, 0))
    return result


SELU_A = float(SELU_ALPHA)
SELU_S = float(SELU_SCALE)


def sigmoid_functions() -> list[BenchFunction]:
    return [
        BenchFunction(
            "sigmoid",
            "sigmoid",
            lambda x, _: actlib.sigmoid(x),
            lambda x, _, out: actlib.sigmoid(x, out=out),
            (
                Formulation("expit(x)", lambda x, _: special.expit(x)),
                Formulation("1/(1+exp(-x))", lambda x, _: 1 / (1 + np.exp(-x))),
                Formulation("0.5*tanh(0.5x)+0.5", lambda x, _: 0.5 * np.tanh(0.5 * x) + 0.5),
            ),
            lambda t, _: mp_sigmoid(t),
        ),
        BenchFunction(
            "sigmoid_grad",
            "sigmoid",
            lambda x, _: actlib.sigmoid_grad(x),
            lambda x, _, out: actlib.sigmoid_grad(x, out=out),
            (
                Formulation(
                    "expit(x)*expit(-x)", lambda x, _: special.expit(x) * special.expit(-x)
                ),
                Formulation("e/(1+e)^2, e=exp(-|x|)", sigmoid_grad_one_exp),
                Formulation("s*(1-s), s=expit(x)", sigmoid_grad_naive),
            ),
            lambda t, _: mp_sigmoid(t) * mp_sigmoid(-t),
        ),
    ]


def tanh_functions() -> list[BenchFunction]:
    return [
        BenchFunction(
            "tanh",
            "tanh",
            lambda x, _: actlib.tanh(x),
            lambda x, _, out: actlib.tanh(x, out=out),
            (Formulation("np.tanh(x)", lambda x, _: np.tanh(x)),),
            lambda t, _: mpmath.tanh(t),
        ),
        BenchFunction(
            "tanh_grad",
            "tanh",
            lambda x, _: actlib.tanh_grad(x),
            lambda x, _, out: actlib.tanh_grad(x, out=out),
            (
                Formulation("4e/(1+e)^2, e=exp(-2|x|)", tanh_grad_one_exp),
                Formulation("cosh(x)^-2", lambda x, _: 1 / np.square(np.cosh(x))),
                Formulation("1-tanh(x)^2", lambda x, _: 1 - np.square(np.tanh(x))),
            ),
            lambda t, _: mpmath.sech(t) ** 2,
        ),
    ]


def relu_functions() -> list[BenchFunction]:
    return [
        BenchFunction(
            "relu",
            "relu",
            lambda x, _: actlib.relu(x),
            lambda x, _, out: actlib.relu(x, out=out),
            (
                Formulation("maximum(x, 0)", lambda x, _: np.maximum(x, x.dtype.type(0))),
                Formulation("x*(x>0)", lambda x, _: x * (x > 0)),
            ),
            lambda t, _: max(t, mpmath.mpf(0)),
        ),
        BenchFunction(
            "relu_grad",
            "relu",
            lambda x, _: actlib.relu_grad(x),
            lambda x, _, out: actlib.relu_grad(x, out=out),
            (
                Formulation("(x>0).astype", lambda x, _: (x > 0).astype(x.dtype)),
                Formulation("heaviside(x, 0)", lambda x, _: np.heaviside(x, x.dtype.type(0))),
            ),
            lambda t, _: mpmath.mpf(1 if t > 0 else 0),
            kink_at_zero=True,
        ),
        BenchFunction(
            "leaky_relu",
            "leaky_relu",
            lambda x, _: actlib.leaky_relu(x, LEAKY_SLOPE),
            lambda x, _, out: actlib.leaky_relu(x, LEAKY_SLOPE, out=out),
            (
                Formulation("where(x>0, x, a*x)", lambda x, _: np.where(x > 0, x, x * LEAKY_SLOPE)),
                Formulation("maximum(x, a*x)", lambda x, _: np.maximum(x, x * LEAKY_SLOPE)),
            ),
            lambda t, _: t if t > 0 else mpmath.mpf(LEAKY_SLOPE) * t,
        ),
        BenchFunction(
            "leaky_relu_grad",
            "leaky_relu",
            lambda x, _: actlib.leaky_relu_grad(x, LEAKY_SLOPE),
            lambda x, _, out: actlib.leaky_relu_grad(x, LEAKY_SLOPE, out=out),
            (
                Formulation(
                    "where(x>0, 1, a)",
                    lambda x, _: np.where(x > 0, x.dtype.type(1), x.dtype.type(LEAKY_SLOPE)),
                ),
                Formulation(
                    "(x>0)*(1-a)+a",
                    lambda x, _: (
                        (x > 0) * x.dtype.type(1 - LEAKY_SLOPE) + x.dtype.type(LEAKY_SLOPE)
                    ),
                ),
            ),
            lambda t, _: mpmath.mpf(1 if t > 0 else LEAKY_SLOPE),
            kink_at_zero=True,
        ),
        BenchFunction(
            "prelu",
            "prelu",
            lambda x, slope: actlib.prelu(x, slope),
            lambda x, slope, out: actlib.prelu(x, slope, out=out),
            (
                Formulation(
                    "where(x>0, x, s*x)", lambda x, slope: np.where(x > 0, x, x * channel(slope))
                ),
                Formulation(
                    "maximum(x, s*x), s<=1", lambda x, slope: np.maximum(x, x * channel(slope))
                ),
            ),
            lambda t, s: t if t > 0 else s * t,
        ),
        BenchFunction(
            "prelu_grad",
            "prelu",
            lambda x, slope: actlib.prelu_grad(x, slope),
            lambda x, slope, out: actlib.prelu_grad(x, slope, out=out),
            (
                Formulation(
                    "where(x>0, 1, s)",
                    lambda x, slope: np.where(x > 0, x.dtype.type(1), channel(slope)),
                ),
                Formulation(
                    "(x>0)*(1-s)+s",
                    lambda x, slope: (x > 0) * (1 - channel(slope)) + channel(slope),
                ),
            ),
            lambda t, s: mpmath.mpf(1) if t > 0 else s,
            kink_at_zero=True,
        ),
    ]


def exponential_functions() -> list[BenchFunction]:
    return [
        BenchFunction(
            "elu",
            "elu",
            lambda x, _: actlib.elu(x, ELU_ALPHA),
            lambda x, _, out: actlib.elu(x, ELU_ALPHA, out=out),
            (
                Formulation(
                    "where(x>0, x, a*expm1(min(x,0)))",
                    lambda x, _: np.where(x > 0, x, ELU_ALPHA * np.expm1(np.minimum(x, 0))),
                ),
                Formulation(
                    "where(x>0, x, a*expm1(x))",
                    lambda x, _: np.where(x > 0, x, ELU_ALPHA * np.expm1(x)),
                ),
                Formulation(
                    "where(x>0, x, a*(exp(x)-1))",
                    lambda x, _: np.where(x > 0, x, ELU_ALPHA * (np.exp(x) - 1)),
                ),
                Formulation(
                    "max(x,0)+a*expm1(min(x,0))",
                    lambda x, _: np.maximum(x, 0) + ELU_ALPHA * np.expm1(np.minimum(x, 0)),
                ),
            ),
            lambda t, _: t if t > 0 else ELU_ALPHA * mpmath.expm1(t),
        ),
        BenchFunction(
            "elu_grad",
            "elu",
            lambda x, _: actlib.elu_grad(x, ELU_ALPHA),
            lambda x, _, out: actlib.elu_grad(x, ELU_ALPHA, out=out),
            (
                Formulation(
                    "where(x>0, 1, a*exp(min(x,0)))",
                    lambda x, _: np.where(
                        x > 0, x.dtype.type(1), ELU_ALPHA * np.exp(np.minimum(x, 0))
                    ),
                ),
                Formulation(
                    "a*exp(min(x,0))+(x>0)*(1-a)",
                    lambda x, _: (
                        ELU_ALPHA * np.exp(np.minimum(x, 0)) + (x > 0) * x.dtype.type(1 - ELU_ALPHA)
                    ),
                ),
            ),
            lambda t, _: mpmath.mpf(1) if t > 0 else ELU_ALPHA * mpmath.exp(t),
        ),
        BenchFunction(
            "selu",
            "selu",
            lambda x, _: actlib.selu(x),
            lambda x, _, out: actlib.selu(x, out=out),
            (
                Formulation(
                    "where(x>0, S*x, (S*A)*expm1(min(x,0)))",
                    lambda x, _: np.where(
                        x > 0, x.dtype.type(SELU_S) * x, selu_negative(x, SELU_S, SELU_A)
                    ),
                ),
                Formulation(
                    "S*max(x,0)+(S*A)*expm1(min(x,0))",
                    lambda x, _: (
                        x.dtype.type(SELU_S) * np.maximum(x, 0) + selu_negative(x, SELU_S, SELU_A)
                    ),
                ),
                Formulation(
                    "S*where(x>0, x, A*expm1(x))",
                    lambda x, _: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)),
                ),
            ),
            lambda t, _: (
                mpmath.mpf(SELU_SCALE) * (t if t > 0 else mpmath.mpf(SELU_ALPHA) * mpmath.expm1(t))
            ),
        ),
        BenchFunction(
            "selu_grad",
            "selu",
            lambda x, _: actlib.selu_grad(x),
            lambda x, _, out: actlib.selu_grad(x, out=out),
            (
                Formulation(
                    "where(x>0, S, (S*A)*exp(min(x,0)))",
                    lambda x, _: np.where(
                        x > 0,
                        x.dtype.type(SELU_S),
                        x.dtype.type(SELU_S * SELU_A) * np.exp(np.minimum(x, 0)),
                    ),
                ),
                Formulation(
                    "(S*A)*exp(min(x,0))+(x>0)*(S-S*A)",
                    lambda x, _: (
                        x.dtype.type(SELU_S * SELU_A) * np.exp(np.minimum(x, 0))
                        + (x > 0) * x.dtype.type(SELU_S - SELU_S * SELU_A)
                    ),
                ),
            ),
            lambda t, _: (
                mpmath.mpf(SELU_SCALE) * (1 if t > 0 else mpmath.mpf(SELU_ALPHA) * mpmath.exp(t))
            ),
        ),
    ]


def gelu_functions() -> list[BenchFunction]:
    sqrt2 = math.sqrt(2)
    return [
        BenchFunction(
            "gelu",
            "gelu",
            lambda x, _: actlib.gelu(x),
            lambda x, _, out: actlib.gelu(x, out=out),
            (
                Formulation("x*ndtr(x)", lambda x, _: x * special.ndtr(x)),
                Formulation(
                    "0.5x*(1+erf(x/sqrt2))",
                    lambda x, _: 0.5 * x * (1 + special.erf(x / x.dtype.type(sqrt2))),
                ),
            ),
            lambda t, _: mp_gelu(t),
        ),
        BenchFunction(
            "gelu_grad",
            "gelu",
            lambda x, _: actlib.gelu_grad(x),
            lambda x, _, out: actlib.gelu_grad(x, out=out),
            (
                Formulation(
                    "ndtr(x)+x*exp(-x^2/2)/sqrt(2pi)",
                    lambda x, _: (
                        special.ndtr(x) + x * np.exp(-0.5 * x * x) * x.dtype.type(INV_SQRT_2PI)
                    ),
                ),
            ),
            lambda t, _: mp_gelu_grad(t),
            magnitude=mp_term_magnitude(mp_gelu_grad_terms),
        ),
        BenchFunction(
            "gelu_tanh",
            "gelu_tanh",
            lambda x, _: actlib.gelu(x, approximate="tanh"),
            lambda x, _, out: actlib.gelu(x, approximate="tanh", out=out),
            (
                Formulation(
                    "x*expit(2u)", lambda x, _: x * special.expit(2 * gelu_tanh_argument(x))
                ),
                Formulation(
                    "0.5x*(1+tanh(u))",
                    lambda x, _: 0.5 * x * (1 + np.tanh(gelu_tanh_argument(x))),
                ),
            ),
            lambda t, _: mp_gelu_tanh(t),
        ),
        BenchFunction(
            "gelu_tanh_grad",
            "gelu_tanh",
            lambda x, _: actlib.gelu_grad(x, approximate="tanh"),
            lambda x, _, out: actlib.gelu_grad(x, approximate="tanh", out=out),
            (
                Formulation("via expit(±2u)", gelu_tanh_grad_stable),
                Formulation("via tanh(u)", gelu_tanh_grad_naive),
            ),
            lambda t, _: mp_gelu_tanh_grad(t),
            magnitude=mp_term_magnitude(mp_gelu_tanh_grad_terms),
        ),
    ]


def bench_functions() -> list[BenchFunction]:
    """Return every benchmarked function, each activation followed by its derivative.

    Every peer also comes in float64 then rounded, the usual way to make a float32 result
    accurate.
    """
    functions = [
        *sigmoid_functions(),
        *tanh_functions(),
        *relu_functions(),
        *exponential_functions(),
        *gelu_functions(),
    ]
    return [
        dataclasses.replace(f, peers=f.peers + tuple(via_float64(p) for p in f.peers))
        for f in functions
    ]

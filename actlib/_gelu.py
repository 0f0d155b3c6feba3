"""GELU kernels: the exact form x·Φ(x) and the tanh approximation, with derivatives.

The float64 kernels keep every rounding that a far-negative x amplifies in double-double:

* exact form: ``z = -x/√2`` is kept as ``z_hi + z_lo``, and ``exp(-x²/2)`` is evaluated
  from the exact square ``x² = p + e``. `scipy.special.erfc` is only used where its result
  is at least 1/2; for 15/32 <= z < 3 a Taylor expansion around the nearest multiple of 1/8
  (whose erfc value is stored in double-double) takes over, and for z >= 3 the continued
  fraction of erfcx. (scipy 1.17's erfc rounds ``z*z`` before its exp, which puts it up to
  480 ULP off at z = 24, and its rational fits alone are up to 6 ULP off, measured against
  mpmath on 1,600 points.)
* tanh form: ``v = √(8/π)·x·(1 + 0.044715·x²)`` is kept as ``v_hi + v_lo`` and
  ``σ(v_hi + v_lo) = σ(v_hi)·(1 + σ(-v_hi)·v_lo)`` to first order.

Where a tiny exp would be subnormal but the final result is not (derivatives multiply it
by up to a few thousand), the exp is evaluated 700 higher and scaled by e^-700 at the end.

The low-precision kernels (for float16 and float32 results) use the plain float64
formulas: their relative error, at most about x²·2^-53, is far below one float32 ULP
wherever the float32 result is not zero.

Constants were evaluated with mpmath at 200 bits and split into float64 pairs;
tests/test_actlib_registry.py recomputes them.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

from actlib._doubledouble import fast_two_sum, two_prod, two_sum

__all__ = [
    "gelu",
    "gelu_grad",
    "gelu_grad_low_precision",
    "gelu_low_precision",
    "gelu_tanh",
    "gelu_tanh_grad",
    "gelu_tanh_grad_low_precision",
    "gelu_tanh_low_precision",
]

Float64Array = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]

# Beyond |x| = 40 every GELU result and derivative is its limit in float64 (x or ±0 for
# f, 1 or ±0 for f'), so the kernels clip there and never see inf in their arithmetic.
_CLIP = 40.0

SQRT1_2 = (0.7071067811865476, -4.833646656726457e-17)
INV_SQRT_2PI = 0.3989422804014327
INV_SQRT_PI = 0.5641895835477563
SQRT_8_OVER_PI = (1.5957691216057308, -9.96930880911092e-17)
# The decimal constant 0.044715 of the tanh form, which float64 cannot hold exactly.
TANH_CUBIC = (0.044715, 2.1960211427085595e-18)

# exp(-x) for x in (700, 745] is subnormal; exp(700 - x) * EXP_MINUS_700 is not.
_EXP_SHIFT = 700.0
EXP_MINUS_700 = 9.85967654375977e-305

# Taylor expansion of erfc around c = k/8 for k = 4..24 (used for 15/32 <= z < 3):
#   erfc(c + h) = erfc(c) - (2/√π) e^(-c²) Σ_n (-1)^n H_n(c) h^(n+1) / (n+1)!
# with Hermite polynomials H_n. Columns: erfc(c) high and low parts, (2/√π) e^(-c²).
_ERFC_CENTRES = np.array(
    [
        (0.4795001221869535, -1.900077467916287e-17, 0.8787825789354448),
        (0.376759117811582, 2.7016816836135297e-17, 0.7634995357606049),
        (0.28884436634648486, 8.536743514828927e-18, 0.6429310691952074),
        (0.21592493894014034, 4.289874173274569e-18, 0.5247450452901482),
        (0.15729920705028513, -2.954563826510312e-18, 0.4151074974205947),
        (0.11161176829829224, -2.291347870416768e-18, 0.3182739585007693),
        (0.07709987174354177, -3.3360693261863044e-19, 0.2365211224472908),
        (0.051829927217909674, 3.160872472615337e-18, 0.1703597736875156),
        (0.033894853524689274, -8.274380778554473e-19, 0.11893028922362937),
        (0.021556266760016336, -3.1872158084248303e-19, 0.08047225902251116),
        (0.013328328780817557, -6.145085778436527e-19, 0.05277499593015037),
        (0.00800994232988003, -6.364799539770061e-19, 0.03354582842421607),
        (0.004677734981047266, -3.8794238326641256e-19, 0.020666985354092053),
        (0.0026540293594823415, 4.3370229402713904e-20, 0.012340820614333696),
        (0.0014627165866811518, -6.81920077729474e-20, 0.007142319022017983),
        (0.0007829382178911192, 3.7648655747024134e-20, 0.004006477861670219),
        (0.0004069520174449589, 2.080297158010754e-20, 0.0021782842303527095),
        (0.00020537573614121745, -5.600990411407791e-21, 0.001147875125882675),
        (0.00010062192211963683, 6.262545538413354e-21, 0.0005862772470937923),
        (4.785483974377341e-05, 1.2868001298233825e-21, 0.00029022828286249803),
        (2.209049699858544e-05, 1.5563377960343457e-22, 0.00013925305194674786),
    ]
)
_FIRST_CENTRE = 4
_CENTRE_LOWER = 15 / 32
# With |h| <= 1/16 the term n = 13 is below 3e-19 of the result at every centre.
_TAYLOR_TERMS = 14
# The continued fraction below converges to float64 precision in 32 levels for z >= 3.
_CONTINUED_FRACTION_LOWER = 3.0
_CONTINUED_FRACTION_DEPTH = 32


def _hermite_coefficients() -> npt.NDArray[np.float64]:
    """Return the table of (-1)^n H_n(c) / (n+1)! for every centre c and n < 14.

    float64 is enough: each coefficient multiplies h^(n+1) with |h| <= 1/16, so its
    rounding stays far below the double-double centre value.
    """
    centres = (np.arange(len(_ERFC_CENTRES)) + _FIRST_CENTRE) / 8.0
    table = np.empty((len(centres), _TAYLOR_TERMS))
    previous = np.zeros_like(centres)
    current = np.ones_like(centres)
    for n in range(_TAYLOR_TERMS):
        table[:, n] = (-1) ** n * current / math.factorial(n + 1)
        previous, current = current, 2.0 * centres * current - 2.0 * n * previous
    return table


# The tables transposed: np.take(..., axis=1) then gathers the values of one coefficient
# for a whole block as one contiguous row, several times faster than strided columns.
_HERMITE_ROWS = np.ascontiguousarray(_hermite_coefficients().T)
_CENTRE_ROWS = np.ascontiguousarray(_ERFC_CENTRES.T)


def _split_argument(x: Float64Array) -> tuple[Float64Array, Float64Array]:
    """Return ``z = -x/√2`` as a double-double ``(z_hi, z_lo)``."""
    z_high, z_low = two_prod(x, -SQRT1_2[0])
    z_low += x * -SQRT1_2[1]
    return fast_two_sum(z_high, z_low)


def _gauss_exp(x: Float64Array) -> tuple[Float64Array, Float64Array, Float64Array]:
    """Return ``(E, s, c)`` with ``exp(-x²/2) ≈ E * (1 - c) * s`` to about 1 ULP.

    `s` is 1, or e^-700 where exp(-x²/2) would be subnormal; E is then not.
    """
    square, square_low = two_prod(x, x)
    half = 0.5 * square
    shift = np.where(half > _EXP_SHIFT, _EXP_SHIFT, 0.0)
    scale = np.where(half > _EXP_SHIFT, EXP_MINUS_700, 1.0)
    return np.exp(shift - half), scale, 0.5 * square_low


def _cdf_central(z_high: Float64Array, z_low: Float64Array) -> Float64Array:
    """Return Φ(x) = erfc(z)/2 where erfc(z) >= 1/2, i.e. z < 15/32 (x > -0.663)."""
    correction = INV_SQRT_PI * np.exp(-z_high * z_high) * z_low
    result: Float64Array = 0.5 * special.erfc(z_high) - correction
    return result


def _cdf_taylor(z_high: Float64Array, z_low: Float64Array) -> Float64Array:
    """Return Φ(x) = erfc(z)/2 for 15/32 <= z < 3 from the nearest tabulated centre."""
    index = np.rint(8.0 * z_high).astype(np.intp) - _FIRST_CENTRE
    h = (z_high - (index + _FIRST_CENTRE) / 8.0) + z_low
    coefficients = np.take(_HERMITE_ROWS, index, axis=1)
    series = coefficients[-1]
    for n in range(_TAYLOR_TERMS - 2, -1, -1):
        series *= h
        series += coefficients[n]
    series *= h
    centre_high, centre_low, slope = np.take(_CENTRE_ROWS, index, axis=1)
    result: Float64Array = 0.5 * (centre_high + (centre_low - slope * series))
    return result


def _mills_tail(z_high: Float64Array) -> Float64Array:
    """Return ``w`` with ``√π·erfcx(z) = 1/(z·(1 + w))``, from the continued fraction.

    ``√π·erfcx(z) = 1/(z + (1/2)/(z + (2/2)/(z + (3/2)/(z + ...))))``, valid for z >= 3.
    """
    tail = np.zeros_like(z_high)
    for n in range(_CONTINUED_FRACTION_DEPTH, 0, -1):
        tail = (0.5 * n) / (z_high + tail)
    result: Float64Array = tail / z_high
    return result


def _regions(z_high: Float64Array) -> tuple[IndexArray, IndexArray, IndexArray]:
    """Return the indices for scipy's erfc (nan included), the Taylor table and the tail."""
    central = np.flatnonzero(~(z_high >= _CENTRE_LOWER))
    taylor = np.flatnonzero((z_high >= _CENTRE_LOWER) & (z_high < _CONTINUED_FRACTION_LOWER))
    tail = np.flatnonzero(z_high >= _CONTINUED_FRACTION_LOWER)
    return central, taylor, tail


def _cdf(
    z_high: Float64Array, z_low: Float64Array, central: IndexArray, taylor: IndexArray
) -> Float64Array:
    """Return Φ(x) at the `central` and `taylor` indices, and 0 elsewhere.

    Each element goes through one of the two evaluations only: scipy's erfc costs about
    as much per element as the whole Taylor evaluation (NumPy 2.4, scipy 1.17, x86-64).
    """
    cdf = np.zeros_like(z_high)
    cdf[central] = _cdf_central(z_high[central], z_low[central])
    if taylor.size:
        cdf[taylor] = _cdf_taylor(z_high[taylor], z_low[taylor])
    return cdf


def gelu(x: Float64Array, out: Float64Array) -> None:
    """Write x·Φ(x), within a few float64 ULP for every x (see the module docstring)."""
    clipped = np.clip(x, -_CLIP, _CLIP)
    z_high, z_low = _split_argument(clipped)
    central, taylor, tail = _regions(z_high)

    # x itself above +40 (x·Φ(x) = x there), the clipped x below -40 (to avoid -inf * 0).
    bounded = np.maximum(x, -_CLIP)
    np.multiply(bounded, _cdf(z_high, z_low, central, taylor), out=out)
    if tail.size:
        # x·Φ(x) = -φ(x) / (1 + w) for x <= -3√2, with no subtraction anywhere.
        xt = clipped[tail]
        exponential, scale, low = _gauss_exp(xt)
        denominator = 1.0 + (_mills_tail(z_high[tail]) * (1.0 + low) + low)
        out[tail] = (-INV_SQRT_2PI * exponential / denominator) * scale


def gelu_grad(x: Float64Array, out: Float64Array) -> None:
    """Write Φ(x) + x·φ(x). Near its zero at x ≈ -0.7518 the error is relative to |Φ| + |xφ|."""
    clipped = np.clip(x, -_CLIP, _CLIP)
    z_high, z_low = _split_argument(clipped)
    central, taylor, tail = _regions(z_high)
    exponential, scale, low = _gauss_exp(clipped)
    # x·φ(x) / scale: it stays normal where x·φ(x) itself would be subnormal.
    x_density = (clipped * INV_SQRT_2PI) * exponential * (1.0 - low)

    np.multiply(x_density, scale, out=out)
    out += _cdf(z_high, z_low, central, taylor)
    if tail.size:
        # Φ + xφ = xφ·(1 - 1/(x²(1 + w))) for x <= -3√2.
        xt = clipped[tail]
        ratio = 1.0 / (xt * xt * (1.0 + _mills_tail(z_high[tail])))
        out[tail] = (x_density[tail] * (1.0 - ratio)) * scale[tail]


def gelu_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write x·Φ(x) with `scipy.special.ndtr`, accurate enough for float16/float32 results."""
    bounded = np.maximum(x, -_CLIP)
    special.ndtr(bounded, out=out)
    out *= bounded


def gelu_grad_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write Φ(x) + x·φ(x) in plain float64, accurate enough for float16/float32 results."""
    clipped = np.clip(x, -_CLIP, _CLIP)
    density = np.exp(-0.5 * clipped * clipped)
    density *= clipped * INV_SQRT_2PI
    special.ndtr(clipped, out=out)
    out += density


def _tanh_argument(x: Float64Array) -> tuple[Float64Array, Float64Array]:
    """Return ``v = √(8/π)·x·(1 + 0.044715·x²)`` as a double-double ``(v_hi, v_lo)``."""
    square, square_low = two_prod(x, x)
    cubic, cubic_low = two_prod(TANH_CUBIC[0], square)
    cubic_low += TANH_CUBIC[0] * square_low + TANH_CUBIC[1] * square
    factor, factor_low = two_sum(1.0, cubic)
    factor_low += cubic_low
    inner, inner_low = two_prod(x, factor)
    inner_low += x * factor_low
    v_high, v_low = two_prod(SQRT_8_OVER_PI[0], inner)
    v_low += SQRT_8_OVER_PI[0] * inner_low + SQRT_8_OVER_PI[1] * inner
    return fast_two_sum(v_high, v_low)


def _logistic_pair(v: Float64Array) -> tuple[Float64Array, Float64Array]:
    """Return σ(v) and σ(-v) as ``e^min(±v, 0) / (1 + e^-|v|)``.

    These are the two forms that `scipy.special.expit` picks by the sign of v, but with
    NumPy's exp, about 6 times faster than expit per element (NumPy 2.4, scipy 1.17,
    x86-64) and up to 0.67 ULP off instead of 0.5. One of the two exps is 1, so their
    product is e^-|v| exactly.
    """
    logistic = np.exp(np.minimum(v, 0.0))
    complement = np.exp(np.minimum(-v, 0.0))
    denominator = 1.0 + logistic * complement
    logistic /= denominator
    complement /= denominator
    return logistic, complement


def _logistic_with_tail(
    v_high: Float64Array, v_low: Float64Array, logistic: Float64Array, complement: Float64Array
) -> tuple[Float64Array, Float64Array]:
    """Return ``(S, s)`` with ``σ(v_hi + v_lo) ≈ S * s``, given σ(v_hi) and σ(-v_hi).

    `s` is 1, or e^-700 where σ(v) is below e^-700 (there σ(v) = e^v to float64 precision).
    `logistic` is updated in place.
    """
    deep = v_high < -_EXP_SHIFT
    if deep.any():
        logistic[deep] = np.exp(v_high[deep] + _EXP_SHIFT)
    logistic *= 1.0 + complement * v_low
    scale = np.where(deep, EXP_MINUS_700, 1.0)
    return logistic, scale


def gelu_tanh(x: Float64Array, out: Float64Array) -> None:
    """Write x·σ(v), the tanh approximation ``x/2·(1 + tanh(v/2))``, without cancellation."""
    clipped = np.clip(x, -_CLIP, _CLIP)
    v_high, v_low = _tanh_argument(clipped)
    # expit's exp from the C library rounds more tightly than NumPy's, which keeps the
    # result within 2 ULP. σ(-v) only scales the tiny v_lo term, so 1 - σ(v) is enough.
    logistic = special.expit(v_high)
    logistic, scale = _logistic_with_tail(v_high, v_low, logistic, 1.0 - logistic)
    bounded = np.maximum(x, -_CLIP)
    np.multiply(bounded, logistic, out=out)
    out *= scale


def gelu_tanh_grad(x: Float64Array, out: Float64Array) -> None:
    """Write σ(v)·(1 + x·σ(-v)·v') with ``v' = √(8/π)·(1 + 3·0.044715·x²)``."""
    clipped = np.clip(x, -_CLIP, _CLIP)
    v_high, v_low = _tanh_argument(clipped)
    # σ(-v) is multiplied by up to x·v' ≈ 1e4 here. For v < 0 it is 1 - σ(v), correct to
    # half an ULP; for v >= 0, σ(-v) = e^-v·σ(v) keeps its relative precision.
    logistic = special.expit(v_high)
    complement = np.where(v_high < 0, 1.0 - logistic, np.exp(-np.abs(v_high)) * logistic)
    logistic, scale = _logistic_with_tail(v_high, v_low, logistic, complement)
    slope = SQRT_8_OVER_PI[0] * (1.0 + 3.0 * TANH_CUBIC[0] * clipped * clipped)
    np.multiply(clipped * complement, slope, out=out)
    out += 1.0
    out *= logistic
    out *= scale


def _tanh_argument_low_precision(x: Float64Array) -> Float64Array:
    result: Float64Array = SQRT_8_OVER_PI[0] * x * (1.0 + TANH_CUBIC[0] * x * x)
    return result


def gelu_tanh_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write x·σ(v) in plain float64, accurate enough for float16/float32 results."""
    clipped = np.clip(x, -_CLIP, _CLIP)
    logistic, _ = _logistic_pair(_tanh_argument_low_precision(clipped))
    np.multiply(np.maximum(x, -_CLIP), logistic, out=out)


def gelu_tanh_grad_low_precision(x: Float64Array, out: Float64Array) -> None:
    """Write σ(v)·(1 + x·σ(-v)·v') in plain float64, accurate enough for float16/float32."""
    clipped = np.clip(x, -_CLIP, _CLIP)
    logistic, complement = _logistic_pair(_tanh_argument_low_precision(clipped))
    slope = SQRT_8_OVER_PI[0] * (1.0 + 3.0 * TANH_CUBIC[0] * clipped * clipped)
    np.multiply(clipped * complement, slope, out=out)
    out += 1.0
    out *= logistic

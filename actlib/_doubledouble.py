"""Error-free transformations on float64 arrays (double-double building blocks).

NumPy has no fused multiply-add, so products are split with Dekker's method. The
results are exact as long as no intermediate overflows: callers keep ``|a|`` and ``|b|``
below about 1e150 (the kernels clip their inputs to a few dozen first).

References
----------
T. J. Dekker, "A floating-point technique for extending the available precision",
Numerische Mathematik 18, 1971.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["fast_two_sum", "two_prod", "two_square", "two_sum"]

Float64Array = npt.NDArray[np.float64]
Operand = Float64Array | float

# 2**27 + 1 splits a float64 significand into two halves of 26 bits.
_SPLITTER = 134217729.0


def _split(a: Operand) -> tuple[Any, Any]:
    """Split `a` into high and low halves whose products are exact in float64."""
    scaled = _SPLITTER * a
    high = scaled - (scaled - a)
    return high, a - high


def two_prod(a: Operand, b: Operand) -> tuple[Float64Array, Float64Array]:
    """Return ``(p, e)`` with ``p = fl(a * b)`` and ``p + e == a * b`` exactly."""
    product = np.multiply(a, b)
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    return product, error


def two_square(a: Float64Array) -> tuple[Float64Array, Float64Array]:
    """Return ``(p, e)`` with ``p = fl(a * a)`` and ``p + e == a * a`` exactly."""
    square = np.multiply(a, a)
    high, low = _split(a)
    error = ((high * high - square) + 2.0 * high * low) + low * low
    return square, error


def two_sum(a: Operand, b: Operand) -> tuple[Float64Array, Float64Array]:
    """Return ``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly (Knuth)."""
    total = np.add(a, b)
    b_virtual = total - a
    a_virtual = total - b_virtual
    return total, (a - a_virtual) + (b - b_virtual)


def fast_two_sum(a: Operand, b: Operand) -> tuple[Float64Array, Float64Array]:
    """Like `two_sum`, but valid only where ``|a| >= |b|`` or ``a == 0``."""
    total = np.add(a, b)
    return total, b - (total - a)

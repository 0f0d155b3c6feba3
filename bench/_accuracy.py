"""Measure the error of a formulation in ULPs against mpmath, on a fixed set of check points."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray

# Exact function of one input and a PReLU slope (ignored by the other functions).
MpFunction = Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]

SIGNED_INTEGERS: dict[int, type[np.signedinteger[Any]]] = {4: np.int32, 8: np.int64}


def check_points(dtype: type[np.floating[Any]]) -> NDArray[Any]:
    """Return the finite points at which formulations are checked, in dtype.

    They are ±0, ±subnormals, ±tiny, ±1, ±10, ±20, the exp overflow thresholds ±88, ±89
    and ±710, ±100, ±1e4, a grid of step 0.05 over [-30, 30] and 200 magnitudes from
    1e-30 to 1e4 of each sign. Infinities and NaN are left out: what a formula returns
    there is a convention that costs one extra pass to fix, and tests/ checks actlib's.
    """
    info = np.finfo(dtype)
    special = [
        0.0,
        float(info.smallest_subnormal),
        float(info.tiny) / 2,
        float(info.tiny),
        *(1.0, 10.0, 20.0, 88.0, 89.0, 100.0, 710.0, 1e4),
    ]
    magnitudes = np.concatenate([special, np.logspace(-30, 4, 200)])
    grid = np.linspace(-30.0, 30.0, 1201)
    points = np.concatenate([magnitudes, -magnitudes, grid])
    return np.unique(points.astype(dtype))


def mp_reference(function: MpFunction, x: NDArray[Any], slope: float) -> NDArray[Any]:
    """Evaluate function at 256 bits at each point of x and round to x's dtype.

    The result goes through float64, which can round a float32 result wrongly by one ULP
    when the float64 value lands on a float32 midpoint.
    """
    with mpmath.workprec(256):
        s = mpmath.mpf(slope)
        values = [float(function(mpmath.mpf(t), s)) for t in x.ravel().tolist()]
    return np.array(values, dtype=np.float64).astype(x.dtype).reshape(x.shape)


def ordered_integers(values: NDArray[Any]) -> NDArray[np.int64]:
    """Map floats to integers whose differences count ULPs; +0 and -0 both map to 0."""
    signed = SIGNED_INTEGERS[values.dtype.itemsize]
    bits = values.view(signed).astype(np.int64)
    magnitude = bits & np.int64(np.iinfo(signed).max)
    ordered: NDArray[np.int64] = np.where(bits < 0, -magnitude, magnitude)
    return ordered


def max_ulp_error(
    actual: NDArray[Any],
    expected: NDArray[Any],
    where: NDArray[np.bool_],
    magnitude: NDArray[Any] | None = None,
) -> float:
    """Return the largest distance in ULPs between two arrays at the points where is true.

    With `magnitude`, the magnitude of the terms that cancel in the exact result, a
    distance counts in ULPs of that magnitude where it exceeds the result. Near a zero
    of f', where Φ(x) + x·φ(x) cancels, the result's own ULP shrinks towards 0 while
    every formulation still rounds terms of the size of |Φ(x)| + |x·φ(x)|.

    A wrong dtype, or a NaN where a number is expected, counts as infinitely far.
    """
    if actual.dtype != expected.dtype:
        return float("inf")
    actual = actual[where]
    expected = expected[where]
    if (np.isnan(actual) != np.isnan(expected)).any():
        return float("inf")
    numbers = ~np.isnan(actual)
    actual = actual[numbers]
    expected = expected[numbers]
    # Python integers, because the difference of two float64 orderings can overflow int64.
    steps = [
        abs(a - b)
        for a, b in zip(
            ordered_integers(actual).tolist(), ordered_integers(expected).tolist(), strict=True
        )
    ]
    if magnitude is not None:
        spacing = np.spacing(np.abs(magnitude[where][numbers])).astype(np.float64)
        difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        # The larger ULP of the two gives the smaller count.
        steps = [min(step, float(d)) for step, d in zip(steps, difference / spacing, strict=True)]
    return float(max(steps, default=0))

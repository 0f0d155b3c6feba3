"""Logistic function and its derivative, without overflow."""

from __future__ import annotations

from typing import Any

import numpy as np


def logistic(x: Any) -> Any:
    """Return 1 / (1 + exp(-x)), computed without overflow.

    Examples
    --------
    >>> import numpy as np
    >>> from smallact import logistic
    >>> logistic(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    >>> logistic(2.0)
    np.float64(0.8807970779778823)
    """
    array = np.asarray(x, dtype=np.float64)
    decay = np.exp(-np.abs(array))
    return np.where(array >= 0, 1 / (1 + decay), decay / (1 + decay))[()]


def logistic_grad(x: Any) -> Any:
    """Return the derivative logistic(x) * logistic(-x).

    Examples
    --------
    >>> from smallact import logistic_grad
    >>> logistic_grad(0.0)
    np.float64(0.25)
    """
    return logistic(x) * logistic(-np.asarray(x, dtype=np.float64))

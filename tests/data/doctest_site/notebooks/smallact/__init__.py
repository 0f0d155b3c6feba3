"""A small stand-in for actlib: the logistic function and its derivative.

>>> import smallact
>>> smallact.logistic(0.0)
np.float64(0.5)
"""

from __future__ import annotations

from smallact._functions import logistic, logistic_grad

__all__ = ["logistic", "logistic_grad"]

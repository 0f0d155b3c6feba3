"""PReLU and its derivative, with the per-channel slope applied along an explicit axis."""

from __future__ import annotations

import operator
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from actlib._checks import FloatArray, Result, ensure_out, result_dtype, to_input_array

__all__ = ["prelu", "prelu_grad"]

Float64Array = npt.NDArray[np.float64]


def _validate_slope(slope: npt.ArrayLike, *, function: str) -> Float64Array:
    """Return `slope` as a 1-D float64 array of at least one finite value."""
    values = np.asarray(slope)
    if values.dtype.kind not in "fiu":
        raise TypeError(
            f"{function}() expected a real slope, got dtype {values.dtype}. "
            "Pass a float or a 1-D float array of per-channel slopes."
        )
    if values.ndim > 1:
        raise ValueError(
            f"{function}() expected a scalar or 1-D slope, got shape {values.shape}. "
            "Pass one slope per channel; the channel axis is chosen with axis=."
        )
    flat = values.astype(np.float64).reshape(-1)
    if flat.size == 0:
        raise ValueError(f"{function}() got an empty slope; pass at least one value.")
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{function}() expected finite slopes, got {flat.tolist()}.")
    return flat


def _channel_axis(ndim: int, axis: object, *, function: str) -> int | None:
    """Return the normalized channel axis, or None when the input has no channel axis."""
    if axis is None:
        return 1 if ndim >= 2 else None
    if isinstance(axis, bool):
        raise TypeError(f"{function}() expected an integer axis, got {axis!r}.")
    try:
        index = operator.index(axis)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{function}() expected an integer axis, got {axis!r} of type {type(axis).__name__}."
        ) from None
    if not -ndim <= index < ndim:
        raise np.exceptions.AxisError(index, ndim, msg_prefix=f"{function}()")
    return index % ndim


def _broadcast_slope(
    slope: Float64Array, shape: tuple[int, ...], axis: int | None, *, function: str
) -> Float64Array:
    """Reshape `slope` so that it broadcasts along `axis` of an array of `shape`."""
    if slope.size == 1:
        return slope.reshape(())
    if axis is None:
        raise ValueError(
            f"{function}() got {slope.size} slopes for an input of shape {shape}, which "
            "has no channel axis (ndim < 2). Pass a single slope, or axis=0 to use "
            "axis 0 as the channel axis."
        )
    channels = shape[axis]
    if slope.size != channels:
        raise ValueError(
            f"{function}() got {slope.size} slopes but the input has {channels} channels "
            f"along axis {axis} (shape {shape}). Pass one slope per channel or a single "
            "slope, or choose another axis with axis=."
        )
    target = [1] * len(shape)
    target[axis] = channels
    return slope.reshape(target)


def _prepare(
    x: npt.ArrayLike,
    slope: npt.ArrayLike,
    axis: object,
    out: FloatArray | None,
    function: str,
) -> tuple[npt.NDArray[Any], np.dtype[Any], Float64Array]:
    """Validate every argument; return the input, the result dtype and the shaped slope."""
    array = to_input_array(x, function=function)
    dtype = result_dtype(array)
    slopes = _validate_slope(slope, function=function)
    channel_axis = _channel_axis(array.ndim, axis, function=function)
    shaped = _broadcast_slope(slopes, array.shape, channel_axis, function=function)
    if out is not None:
        ensure_out(out, shape=array.shape, dtype=dtype, function=function)
    return array, dtype, shaped


def _finish(result: FloatArray, out: FloatArray | None) -> Result:
    if out is not None:
        out[...] = result
        return out
    if result.ndim == 0:
        return cast("np.floating[Any]", result[()])
    return result


def prelu(
    x: npt.ArrayLike,
    slope: npt.ArrayLike,
    /,
    *,
    axis: int | None = None,
    out: FloatArray | None = None,
) -> Result:
    r"""Parametric ReLU with a scalar or per-channel slope, element-wise.

    .. math::
        \operatorname{PReLU}(x) = \begin{cases} x & x > 0 \\ a_c\,x & x \le 0 \end{cases}

    where :math:`a_c` is the slope of the channel that contains x.

    Parameters
    ----------
    x : array_like
        Input; see the `actlib` module docstring for the accepted dtypes.
    slope : float or array_like of shape (C,)
        A single slope, or one slope per channel. Values must be finite; they are used
        as float64 (PyTorch's ``nn.PReLU`` initialises them to 0.25).
    axis : int, optional
        The channel axis. The default is 1 when ``x.ndim >= 2``, as in PyTorch, and no
        channel axis otherwise (then only a single slope is accepted).
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        x for x > 0, the channel's slope times x otherwise; dtype as for the input.

    Raises
    ------
    ValueError
        If the number of slopes is neither 1 nor the size of the channel axis (the
        message gives both sizes), if `slope` has more than one dimension, is empty or
        not finite, or if `axis` is out of range (`numpy.exceptions.AxisError`).
    TypeError
        If `x` or `slope` has an unsupported dtype or `axis` is not an integer.

    See Also
    --------
    prelu_grad : The derivative with respect to x.
    leaky_relu : The same function with a fixed scalar slope.

    Notes
    -----
    The slope is never matched against the last axis silently. ONNX ``PRelu`` instead
    broadcasts its ``slope`` input against the *trailing* axes of X (NumPy rules), so an
    NCHW tensor needs a slope of shape (C, 1, 1) there; a slope of shape (C,) would be
    applied along W. PyTorch's exporter emits the (C, 1, 1) shape.

    Each product is rounded once from the exact product of x and the float64 slope.

    References
    ----------
    K. He, X. Zhang, S. Ren and J. Sun, "Delving Deep into Rectifiers: Surpassing
    Human-Level Performance on ImageNet Classification", ICCV 2015.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> x = -np.ones((1, 2, 2, 2))
    >>> y = actlib.prelu(x, [0.1, 0.2])
    >>> y[0, 0]
    array([[-0.1, -0.1],
           [-0.1, -0.1]])
    >>> y[0, 1]
    array([[-0.2, -0.2],
           [-0.2, -0.2]])
    >>> actlib.prelu(np.array([-1.0, 2.0]), 0.25)
    array([-0.25,  2.  ])
    """
    array, dtype, shaped = _prepare(x, slope, axis, out, "prelu")
    values = array.astype(np.float64, copy=False)
    result = np.empty(array.shape, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        # -inf * 0 is nan; the limit of 0 * x is 0, restored just below. Slopes above 1
        # overflow only where the true value exceeds float64.
        np.multiply(values, shaped, out=result)
    if np.any(shaped == 0):
        np.copyto(result, 0.0, where=np.isneginf(values) & (shaped == 0))
    np.copyto(result, values, where=values > 0)
    with np.errstate(over="ignore"):
        # Products beyond the float16 range round to inf, as they should.
        return _finish(result.astype(dtype, copy=False), out)


def prelu_grad(
    x: npt.ArrayLike,
    slope: npt.ArrayLike,
    /,
    *,
    axis: int | None = None,
    out: FloatArray | None = None,
) -> Result:
    r"""Derivative of PReLU with respect to x, with PyTorch's value (the slope) at the kink.

    .. math::
        \frac{\partial}{\partial x}\operatorname{PReLU}(x) =
        \begin{cases} 1 & x > 0 \\ a_c & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input; see the `actlib` module docstring for the accepted dtypes.
    slope : float or array_like of shape (C,)
        A single slope, or one slope per channel, as for `prelu`.
    axis : int, optional
        The channel axis, as for `prelu`.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        1 for x > 0, the channel's slope (rounded to the result dtype) for x <= 0, nan
        for nan.

    Raises
    ------
    ValueError, TypeError
        As for `prelu`.

    See Also
    --------
    prelu : The function itself.

    Notes
    -----
    PyTorch's PReLU backward computes ``input > 0 ? grad : weight * grad``, so the
    derivative at 0 is the slope; this function does the same.

    References
    ----------
    K. He, X. Zhang, S. Ren and J. Sun, "Delving Deep into Rectifiers: Surpassing
    Human-Level Performance on ImageNet Classification", ICCV 2015.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.prelu_grad(np.array([[-1.0, 0.0], [2.0, -3.0]]), [0.1, 0.2])
    array([[0.1, 0.2],
           [1. , 0.2]])
    """
    array, dtype, shaped = _prepare(x, slope, axis, out, "prelu_grad")
    result = np.empty(array.shape, dtype=dtype)
    np.heaviside(array, 0, out=result)
    with np.errstate(over="ignore"):
        # A slope beyond the float16 range rounds to inf, its correctly rounded value.
        np.copyto(result, shaped.astype(dtype), where=result == 0)
    return _finish(result, out)

"""PReLU and its derivative, with the per-channel slope applied along an explicit axis."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from actlib._checks import (
    BLOCK_SIZE,
    FloatArray,
    Result,
    ensure_out,
    result_dtype,
    to_input_array,
)
from actlib._kernels import select_keeping_second

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


def _check_slope_count(
    slope: Float64Array, shape: tuple[int, ...], axis: int | None, *, function: str
) -> None:
    """Check that `slope` has one value, or one per channel along `axis` of `shape`."""
    if slope.size == 1:
        return
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


def _prepare(
    x: npt.ArrayLike,
    slope: npt.ArrayLike,
    axis: object,
    out: FloatArray | None,
    function: str,
) -> tuple[npt.NDArray[Any], np.dtype[Any], Float64Array, int | None]:
    """Validate every argument; return the input, result dtype, slopes and channel axis."""
    array = to_input_array(x, function=function)
    dtype = result_dtype(array)
    slopes = _validate_slope(slope, function=function)
    channel_axis = _channel_axis(array.ndim, axis, function=function)
    _check_slope_count(slopes, array.shape, channel_axis, function=function)
    if out is not None:
        ensure_out(out, shape=array.shape, dtype=dtype, function=function)
    return array, dtype, slopes, channel_axis


BlockKernel = Callable[[npt.NDArray[Any], npt.NDArray[Any], FloatArray], None]


def _evaluate(
    array: npt.NDArray[Any],
    dtype: np.dtype[Any],
    row_slope: Callable[[int], npt.NDArray[Any]],
    layout: tuple[int, int, int],
    kernel: BlockKernel,
    out: FloatArray | None,
    *,
    in_place: bool,
) -> Result:
    """Run `kernel` on blocks of about BLOCK_SIZE elements and return the result.

    The input is viewed as a 2-D array with one row per (outer index, channel) pair, so
    each block gets one slope per row, as a column from ``row_slope(outer)``. With
    `in_place` (the kernel makes no temporary arrays) and an input already in the result
    dtype, the whole array is one block, which saves a Python call per block.
    """
    result = out
    if out is None or not out.flags.c_contiguous or np.may_share_memory(out, array):
        result = np.empty(array.shape, dtype=dtype)
    assert result is not None
    outer, channels, inner = layout
    rows = outer * channels
    if array.size:
        source = np.ascontiguousarray(array).reshape(rows, inner)
        target = result.reshape(rows, inner)
        slopes = row_slope(outer)[:, np.newaxis]
        if in_place and array.dtype == dtype:
            row_step, column_step = rows, inner
        else:
            row_step = max(1, BLOCK_SIZE // inner)
            column_step = min(inner, BLOCK_SIZE)
        for row in range(0, rows, row_step):
            for column in range(0, inner, column_step):
                block = (slice(row, row + row_step), slice(column, column + column_step))
                kernel(source[block], slopes[block[0]], target[block])

    if out is not None:
        if result is not out:
            out[...] = result
        return out
    if result.ndim == 0:
        return cast("np.floating[Any]", result[()])
    return result


def _layout(shape: tuple[int, ...], axis: int | None, slope_count: int) -> tuple[int, int, int]:
    """Return (outer, channels, inner) sizes; a single slope makes one channel."""
    size = math.prod(shape)
    if slope_count == 1 or axis is None:
        return 1, 1, max(size, 1)
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1 :])
    return outer, shape[axis], max(inner, 1)


def _negative_part_kernel(work: np.dtype[Any], slopes: Float64Array) -> BlockKernel:
    """Return a block kernel for PReLU computed in `work`, with one rounding per element.

    With every slope at most 1 the result is max(x, slope·x), with every slope at least 1
    it is min(x, slope·x), and otherwise max(x, 0) + min(x, 0)·slope, where one of the
    two terms is always 0. A zero slope turns ±inf * 0 into nan; the limit 0 is restored.
    """
    has_zero_slope = bool(np.any(slopes == 0))
    if np.all(slopes <= 1):
        select: Callable[..., Any] | None = np.maximum
    elif np.all(slopes >= 1):
        select = np.minimum
    else:
        select = None

    def kernel(x: npt.NDArray[Any], slope: npt.NDArray[Any], out: FloatArray) -> None:
        values = x.astype(work, copy=False)
        # Work in `out` itself when it has the working dtype.
        result = out if out.dtype == work else np.empty(out.shape, dtype=work)
        with np.errstate(invalid="ignore", over="ignore"):
            # Products overflow only where the true value does; -inf * 0 is fixed below.
            if select is None:
                np.minimum(values, 0, out=result)
                result *= slope
            else:
                np.multiply(values, slope, out=result)
        if has_zero_slope:
            # inf * 0 is nan: the negative part of ±inf is 0 where the slope is 0.
            result[np.isinf(values) & (slope == 0)] = 0
        if select is None:
            result += np.maximum(values, 0)
        else:
            # On a ±0 tie the product is the formula's value (x ≤ 0 gives slope·x).
            select_keeping_second(select, values, result, result)
        if result is not out:
            with np.errstate(over="ignore"):
                # Products beyond the float16 range round to inf, as they should.
                out[...] = result

    return kernel


def _slope_or_one_kernel(kernel_dtype: np.dtype[Any], slopes: FloatArray) -> BlockKernel:
    """Return a block kernel for 1 where x > 0, the slope elsewhere and nan for nan.

    `slopes` are the slopes in `kernel_dtype`.
    """
    if np.all((slopes >= 0) & (slopes <= 1)):

        def kernel(x: npt.NDArray[Any], slope: npt.NDArray[Any], out: FloatArray) -> None:
            # ceil(x) is at least 1 for x > 0 and at most 0 for x <= 0; capping it at 1
            # and raising it to the slope gives 1 or the slope, and keeps nan.
            np.ceil(x, out=out)
            np.minimum(out, 1, out=out)
            np.maximum(out, slope, out=out)

        return kernel

    def general_kernel(x: npt.NDArray[Any], slope: npt.NDArray[Any], out: FloatArray) -> None:
        # Slopes outside [0, 1]: select, then put back the nan that x > 0 drops.
        np.copyto(out, np.where(x > 0, kernel_dtype.type(1), slope))
        np.copyto(out, x, where=np.isnan(x))

    return general_kernel


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
    broadcasts its ``slope`` input against the *trailing* axes of X (NumPy rules). An
    NCHW tensor therefore needs a slope of shape (C, 1, 1) there, because a slope of
    shape (C,) would be applied along W. PyTorch's TorchScript-based ONNX exporter
    (``symbolic_opset9.prelu``) unsqueezes the weight to that (C, 1, 1) shape.

    Each product is computed in float64 from x and the float64 slope, then rounded to the
    input dtype: one rounding in float64, within 1 ULP in float16 and float32.

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
    array, dtype, slopes, channel_axis = _prepare(x, slope, axis, out, "prelu")
    # Slopes that the result dtype represents exactly (float32 slopes for float32 input, 0.25)
    # allow one correctly rounded product in that dtype; others go through float64.
    with np.errstate(over="ignore"):
        # A slope beyond the float16 range becomes inf here and takes the float64 path.
        in_dtype = slopes.astype(dtype)
    work = dtype if np.array_equal(in_dtype.astype(np.float64), slopes) else np.dtype(np.float64)
    row_slopes = slopes.astype(work)
    kernel = _negative_part_kernel(work, slopes)
    layout = _layout(array.shape, channel_axis, slopes.size)
    # The kernel works in `out` itself unless it must compute in float64 or add two parts.
    in_place = work == dtype and (np.all(slopes <= 1) or np.all(slopes >= 1))
    return _evaluate(
        array,
        dtype,
        lambda outer: np.tile(row_slopes, outer),
        layout,
        kernel,
        out,
        in_place=bool(in_place),
    )


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
    array, dtype, slopes, channel_axis = _prepare(x, slope, axis, out, "prelu_grad")
    with np.errstate(over="ignore"):
        # A slope beyond the float16 range rounds to inf, its correctly rounded value.
        row_slopes = slopes.astype(dtype)
    kernel = _slope_or_one_kernel(dtype, row_slopes)
    layout = _layout(array.shape, channel_axis, slopes.size)
    in_place = bool(np.all((row_slopes >= 0) & (row_slopes <= 1)))
    return _evaluate(
        array,
        dtype,
        lambda outer: np.tile(row_slopes, outer),
        layout,
        kernel,
        out,
        in_place=in_place,
    )

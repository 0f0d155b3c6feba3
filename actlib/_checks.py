"""Input validation and the evaluation driver shared by every activation function.

Each public function passes its name here, so that every error names the activation
and the rejected value. Kernels (see `_kernels`) only get 1-D, C-contiguous, native
arrays of equal length that do not overlap: float64, or the result dtype for the
"native" kernels whose results are exact in any dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

__all__ = [
    "Kernel",
    "Result",
    "ensure_out",
    "evaluate",
    "result_dtype",
    "to_input_array",
    "validate_real_parameter",
]

Float64Array = npt.NDArray[np.float64]
FloatArray = npt.NDArray[np.floating[Any]]
Result = FloatArray | np.floating[Any]
KernelFunction = Callable[[npt.NDArray[Any], npt.NDArray[Any]], None]

# Elements per block. The float16/float32 path converts each block to float64, runs the
# kernel and rounds the block into the result, so the extra memory is a few blocks of
# float64 and the temporaries stay in the L2 cache.
BLOCK_SIZE = 1 << 15

_SUPPORTED_FLOAT_SIZES = (2, 4, 8)


@dataclass(frozen=True, slots=True)
class Kernel:
    """The float64 implementations behind one activation function.

    Attributes
    ----------
    float64 : callable
        ``kernel(x, out)`` for float64 results, accurate to the float64 contract.
    low_precision : callable or None
        A cheaper float64 kernel whose results are still far more accurate than one
        float32 ULP; used for float16 and float32 results. None means `float64`.
    native : bool
        True when `float64` is exact in every float dtype (ReLU and the like): it then
        runs directly in the result dtype, with no float64 round trip, and on the whole
        array at once when the input needs no conversion. It must not allocate
        temporary arrays of the input's size, other than boolean masks.
    """

    float64: KernelFunction
    low_precision: KernelFunction | None = None
    native: bool = False


def to_input_array(x: npt.ArrayLike, *, function: str) -> npt.NDArray[Any]:
    """Convert `x` to an array and reject dtypes that have no real float result.

    Float16, float32 and float64 are accepted in any byte order. Booleans and integers
    are accepted and promoted like NumPy ufuncs such as ``np.tanh`` promote them.

    Raises
    ------
    TypeError
        For complex, object, string, bytes, void, datetime and long double input; the
        message names `function` and the dtype.
    """
    array = np.asarray(x)
    kind = array.dtype.kind
    if kind == "f" and array.dtype.itemsize in _SUPPORTED_FLOAT_SIZES:
        return array
    if kind in "biu":
        return array
    if kind == "f":
        raise TypeError(
            f"{function}() does not support input dtype {array.dtype}: its kernels run in "
            "float64 and could not keep the extra precision. Cast the input to float64."
        )
    raise TypeError(
        f"{function}() does not support input dtype {array.dtype}: expected a real "
        "floating-point, integer or boolean array."
    )


def result_dtype(array: npt.NDArray[Any]) -> np.dtype[np.floating[Any]]:
    """Return the native float dtype of the result for an array from `to_input_array`.

    Floats keep their precision. Booleans and integers follow the ufunc loops
    ``e->e``, ``f->f``, ``d->d``: bool, int8 and uint8 give float16, int16 and uint16
    give float32, wider integers give float64.
    """
    if array.dtype.kind == "f":
        return np.dtype(array.dtype.type)
    return np.result_type(array.dtype, np.float16)


def ensure_out(
    out: object, *, shape: tuple[int, ...], dtype: np.dtype[Any], function: str
) -> FloatArray:
    """Check that `out` can receive the result of `function` and return it.

    Raises
    ------
    TypeError
        If `out` is not a NumPy array or its dtype differs from the result dtype.
    ValueError
        If its shape differs from the result shape or it is read-only.
    """
    if not isinstance(out, np.ndarray):
        raise TypeError(
            f"{function}() expected out to be a numpy.ndarray, got {type(out).__name__}."
        )
    if out.dtype != dtype:
        raise TypeError(
            f"{function}() expected out with dtype {dtype}, got {out.dtype}. "
            f"Allocate it with numpy.empty(shape, dtype=numpy.{dtype})."
        )
    if out.shape != shape:
        raise ValueError(f"{function}() expected out with shape {shape}, got {out.shape}.")
    if not out.flags.writeable:
        raise ValueError(f"{function}() cannot write to out: the array is read-only.")
    return out


def validate_real_parameter(value: object, *, name: str, function: str) -> float:
    """Return a finite real scalar parameter as a Python float.

    Raises
    ------
    TypeError
        If `value` is not a real number (bool, complex, str and arrays are rejected).
    ValueError
        If `value` is nan or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{function}() expected {name} to be a real number, got {value!r} "
            f"of type {type(value).__name__}."
        )
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{function}() expected a finite {name}, got {number!r}.")
    return number


def evaluate(kernel: Kernel, x: npt.ArrayLike, out: FloatArray | None, *, function: str) -> Result:
    """Validate `x` and `out`, run `kernel` block by block and return the result.

    A 0-d input with no `out` gives a NumPy scalar, as NumPy ufuncs do.
    """
    array = to_input_array(x, function=function)
    dtype = result_dtype(array)
    if out is not None:
        ensure_out(out, shape=array.shape, dtype=dtype, function=function)

    result = _writable_result(array, out, dtype)
    _run_blocks(kernel, array, result, dtype)

    if out is not None:
        if result is not out:
            out[...] = result
        return out
    if result.ndim == 0:
        return cast("np.floating[Any]", result[()])
    return result


def _writable_result(
    array: npt.NDArray[Any], out: FloatArray | None, dtype: np.dtype[Any]
) -> FloatArray:
    """Return `out` when the kernels can write into it directly, else a new array."""
    if out is None:
        return np.empty(array.shape, dtype=dtype)
    if out.flags.c_contiguous and not np.may_share_memory(out, array):
        return out
    return np.empty(array.shape, dtype=dtype)


def _run_blocks(
    kernel: Kernel, array: npt.NDArray[Any], result: FloatArray, dtype: np.dtype[Any]
) -> None:
    """Apply `kernel` to `array` block by block, writing into C-contiguous `result`."""
    source = np.ascontiguousarray(array).reshape(-1)
    target = result.reshape(-1)
    size = source.size
    work = dtype if kernel.native else np.dtype(np.float64)
    if kernel.native or dtype == np.float64:
        function = kernel.float64
    else:
        function = kernel.low_precision or kernel.float64
    copy_input = source.dtype != work
    copy_output = dtype != work
    if kernel.native and not copy_input:
        # A native kernel makes no temporary array, so blocks would only add a Python
        # call per block.
        function(source, target)
        return

    x_buffer = np.empty(min(size, BLOCK_SIZE) if copy_input else 0, dtype=work)
    y_buffer = np.empty(min(size, BLOCK_SIZE) if copy_output else 0, dtype=work)
    for start in range(0, size, BLOCK_SIZE):
        stop = min(start + BLOCK_SIZE, size)
        x_block = source[start:stop]
        if copy_input:
            x_block = x_buffer[: stop - start]
            x_block[...] = source[start:stop]
        y_block = y_buffer[: stop - start] if copy_output else target[start:stop]
        function(x_block, y_block)
        if copy_output:
            # Rounding to float16 overflows to inf exactly where the true value exceeds
            # the float16 range, which is the correctly rounded result.
            with np.errstate(over="ignore"):
                target[start:stop] = y_block

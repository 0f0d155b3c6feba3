"""Input handling shared by every actlib function: dtypes, shapes, memory layout, out=.

The rules under test: float16/32/64 keep their dtype, and the byte order becomes native.
Booleans and integers are promoted like ``np.tanh`` promotes them. Complex, object, string
and long double input raise TypeError naming the function and the dtype. 0-d input
returns a NumPy scalar, and no input, however extreme, raises a floating-point warning.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import actlib
from actlib._checks import BLOCK_SIZE

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sigmoid": actlib.sigmoid,
    "sigmoid_grad": actlib.sigmoid_grad,
    "tanh": actlib.tanh,
    "tanh_grad": actlib.tanh_grad,
    "relu": actlib.relu,
    "relu_grad": actlib.relu_grad,
    "leaky_relu": actlib.leaky_relu,
    "leaky_relu_grad": actlib.leaky_relu_grad,
    "prelu": lambda x, **kwargs: actlib.prelu(x, 0.25, **kwargs),
    "prelu_grad": lambda x, **kwargs: actlib.prelu_grad(x, 0.25, **kwargs),
    "elu": actlib.elu,
    "elu_grad": actlib.elu_grad,
    "selu": actlib.selu,
    "selu_grad": actlib.selu_grad,
    "gelu": actlib.gelu,
    "gelu_grad": actlib.gelu_grad,
    "gelu_tanh": functools.partial(actlib.gelu, approximate="tanh"),
    "gelu_tanh_grad": functools.partial(actlib.gelu_grad, approximate="tanh"),
}
NAMES = sorted(FUNCTIONS)
FLOAT_DTYPES = (np.float16, np.float32, np.float64)
SAMPLE = np.array([-3.5, -1.0, -0.25, 0.0, 0.5, 2.0, 7.0])


def _error_name(name: str) -> str:
    """Return the function name that errors mention (gelu_tanh is gelu with a setting)."""
    return name.replace("_tanh", "")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("name", NAMES)
def test_float_dtype_preserved(name: str, dtype: type) -> None:
    assert FUNCTIONS[name](SAMPLE.astype(dtype)).dtype == dtype


INTEGER_DTYPES = (
    np.bool_,
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.uint32,
    np.int64,
    np.uint64,
)


@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("name", NAMES)
def test_integer_input_promoted_like_numpy_tanh(name: str, dtype: type) -> None:
    values = np.array([0, 1, 3], dtype=dtype)
    expected_dtype = np.tanh(values).dtype
    result = FUNCTIONS[name](values)
    assert result.dtype == expected_dtype
    np.testing.assert_array_equal(result, FUNCTIONS[name](values.astype(expected_dtype)))


@pytest.mark.parametrize("name", NAMES)
def test_python_scalar_returns_numpy_float64(name: str) -> None:
    result = FUNCTIONS[name](0.5)
    assert type(result) is np.float64


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("name", NAMES)
def test_zero_dimensional_input_returns_scalar(name: str, dtype: type) -> None:
    result = FUNCTIONS[name](np.array(-0.5, dtype=dtype))
    assert type(result) is dtype
    assert result == FUNCTIONS[name](np.array([-0.5], dtype=dtype))[0]


@pytest.mark.parametrize("name", NAMES)
def test_scalar_repr_matches_numpy_2(name: str) -> None:
    # What a reader sees when pasting an example into a plain Python session.
    assert repr(FUNCTIONS[name](np.float32(0.0))).startswith("np.float32(")


UNSUPPORTED = [
    pytest.param(np.array([1 + 2j]), "complex128", id="complex"),
    pytest.param(np.array([1.0], dtype=object), "object", id="object"),
    pytest.param(np.array(["1.0"]), "<U3", id="str"),
    pytest.param(np.array([b"1"]), "|S1", id="bytes"),
    pytest.param(np.array(["2024-01-01"], dtype="datetime64[D]"), "datetime64[D]", id="datetime"),
    pytest.param(
        np.array([1.0], dtype=np.longdouble), np.dtype(np.longdouble).name, id="longdouble"
    ),
]


@pytest.mark.parametrize(("values", "dtype_text"), UNSUPPORTED)
@pytest.mark.parametrize("name", NAMES)
def test_unsupported_dtype_raises_type_error(
    name: str, values: np.ndarray, dtype_text: str
) -> None:
    with pytest.raises(TypeError) as raised:
        FUNCTIONS[name](values)
    message = str(raised.value)
    assert f"{_error_name(name)}()" in message
    assert dtype_text in message


@pytest.mark.parametrize("name", NAMES)
def test_string_scalar_raises_type_error(name: str) -> None:
    with pytest.raises(TypeError, match=_error_name(name)):
        FUNCTIONS[name]("0.5")


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 4)])
@pytest.mark.parametrize("name", NAMES)
def test_empty_input_gives_empty_result(name: str, shape: tuple[int, ...]) -> None:
    result = FUNCTIONS[name](np.empty(shape, dtype=np.float32))
    assert result.shape == shape
    assert result.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_input_matches_contiguous(name: str) -> None:
    grid = np.linspace(-6, 6, 60).reshape(6, 10)
    for view in (grid[:, ::3], grid.T, np.asfortranarray(grid), grid[::-1, 1::2]):
        assert not view.flags.c_contiguous or view.base is not None
        np.testing.assert_array_equal(
            FUNCTIONS[name](view), FUNCTIONS[name](np.ascontiguousarray(view))
        )


@pytest.mark.parametrize("name", NAMES)
def test_read_only_input_accepted(name: str) -> None:
    values = SAMPLE.copy()
    values.flags.writeable = False
    np.testing.assert_array_equal(FUNCTIONS[name](values), FUNCTIONS[name](SAMPLE))


@pytest.mark.parametrize("dtype", ["<f2", ">f2", ">f4", ">f8"])
@pytest.mark.parametrize("name", NAMES)
def test_non_native_byte_order_gives_native_result(name: str, dtype: str) -> None:
    swapped = SAMPLE.astype(dtype)
    result = FUNCTIONS[name](swapped)
    assert result.dtype.isnative
    assert result.dtype == swapped.dtype.newbyteorder("=")
    np.testing.assert_array_equal(result, FUNCTIONS[name](swapped.astype(result.dtype)))


@pytest.mark.parametrize("name", NAMES)
def test_multi_block_input_matches_single_elements(name: str) -> None:
    values = np.linspace(-50, 50, 3 * BLOCK_SIZE + 7)
    result = FUNCTIONS[name](values)
    picks = [0, BLOCK_SIZE - 1, BLOCK_SIZE, 2 * BLOCK_SIZE + 3, values.size - 1]
    for index in picks:
        assert result[index] == FUNCTIONS[name](values[index])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("name", NAMES)
def test_out_receives_result_and_is_returned(name: str, dtype: type) -> None:
    values = SAMPLE.astype(dtype)
    out = np.full(values.shape, np.nan, dtype=dtype)
    returned = FUNCTIONS[name](values, out=out)
    assert returned is out
    np.testing.assert_array_equal(out, FUNCTIONS[name](values))


@pytest.mark.parametrize("name", NAMES)
def test_out_may_alias_input(name: str) -> None:
    values = SAMPLE.copy()
    expected = FUNCTIONS[name](SAMPLE)
    FUNCTIONS[name](values, out=values)
    np.testing.assert_array_equal(values, expected)


@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_out_receives_result(name: str) -> None:
    storage = np.zeros((SAMPLE.size, 2))
    FUNCTIONS[name](SAMPLE, out=storage[:, 0])
    np.testing.assert_array_equal(storage[:, 0], FUNCTIONS[name](SAMPLE))
    assert np.all(storage[:, 1] == 0)


@pytest.mark.parametrize("name", NAMES)
def test_zero_dimensional_out_returned(name: str) -> None:
    out = np.empty((), dtype=np.float64)
    assert FUNCTIONS[name](np.array(0.5), out=out) is out


@pytest.mark.parametrize("name", NAMES)
def test_out_with_wrong_dtype_raises_type_error(name: str) -> None:
    out = np.empty(SAMPLE.shape, dtype=np.float32)
    with pytest.raises(TypeError, match=r"out with dtype float64, got float32"):
        FUNCTIONS[name](SAMPLE, out=out)


@pytest.mark.parametrize("name", NAMES)
def test_out_with_wrong_shape_raises_value_error(name: str) -> None:
    with pytest.raises(ValueError, match=r"out with shape \(7,\), got \(6,\)"):
        FUNCTIONS[name](SAMPLE, out=np.empty(6))


@pytest.mark.parametrize("name", NAMES)
def test_read_only_out_raises_value_error(name: str) -> None:
    out = np.empty(SAMPLE.shape)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        FUNCTIONS[name](SAMPLE, out=out)


@pytest.mark.parametrize("name", NAMES)
def test_out_not_array_raises_type_error(name: str) -> None:
    with pytest.raises(TypeError, match=r"numpy\.ndarray, got list"):
        FUNCTIONS[name](SAMPLE, out=[0.0] * SAMPLE.size)


def _extremes(dtype: type) -> np.ndarray:
    finfo = np.finfo(dtype)
    magnitudes = [
        np.inf,
        finfo.max,
        finfo.max / 2,
        1e4,
        710.0,
        100.0,
        89.0,
        88.0,
        40.0,
        20.0,
        1.0,
        finfo.tiny,
        finfo.smallest_subnormal,
        0.0,
    ]
    positive = np.array(magnitudes, dtype=np.float64)
    positive = positive[np.abs(positive) <= finfo.max]
    values = np.concatenate([positive, -positive, [np.nan]])
    return np.concatenate([values.astype(dtype), [np.finfo(dtype).max, -np.finfo(dtype).max]])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("name", NAMES)
def test_extremes_raise_no_floating_point_warning(name: str, dtype: type) -> None:
    # Under pytest every warning is an error; errstate also catches floating-point
    # errors NumPy would report only as a warning (divide, overflow, invalid).
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        result = FUNCTIONS[name](_extremes(dtype))
    assert result.dtype == dtype


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("parameter", [0.0, 1e-30, 0.5, 3.0, 1e30, -2.0])
def test_parameters_at_extremes_raise_no_warning(dtype: type, parameter: float) -> None:
    values = _extremes(dtype)
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        for function in (actlib.leaky_relu, actlib.leaky_relu_grad, actlib.elu, actlib.elu_grad):
            function(values, parameter)
        for function in (actlib.prelu, actlib.prelu_grad):
            function(values, parameter)
            function(values.reshape(1, -1), [parameter])


@pytest.mark.parametrize("value", [True, "0.1", 1j, None, [0.1]])
@pytest.mark.parametrize(
    ("function", "name"),
    [
        (actlib.leaky_relu, "negative_slope"),
        (actlib.leaky_relu_grad, "negative_slope"),
        (actlib.elu, "alpha"),
        (actlib.elu_grad, "alpha"),
    ],
)
def test_non_real_parameter_raises_type_error(
    function: Callable[..., Any], name: str, value: object
) -> None:
    with pytest.raises(TypeError, match=f"{function.__name__}\\(\\) expected {name}"):
        function(SAMPLE, value)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("function", [actlib.leaky_relu, actlib.elu_grad])
def test_non_finite_parameter_raises_value_error(
    function: Callable[..., Any], value: float
) -> None:
    with pytest.raises(ValueError, match="finite"):
        function(SAMPLE, value)


@pytest.mark.parametrize("function", [actlib.gelu, actlib.gelu_grad])
@pytest.mark.parametrize("value", ["exact", "Tanh", None, True])
def test_unknown_gelu_approximation_lists_choices(
    function: Callable[..., Any], value: object
) -> None:
    with pytest.raises(ValueError, match="choose one of 'none', 'tanh'"):
        function(SAMPLE, value)


def test_integer_parameters_accepted() -> None:
    np.testing.assert_array_equal(actlib.elu(SAMPLE, 1), actlib.elu(SAMPLE, 1.0))
    np.testing.assert_array_equal(
        actlib.leaky_relu(SAMPLE, np.float32(0.5)), actlib.leaky_relu(SAMPLE, 0.5)
    )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
@pytest.mark.parametrize("slope", [0.0, 1e-30, 0.01, 1.0, 3.0, 1e30, -2.0])
def test_slope_derivatives_at_any_slope(dtype: type, slope: float) -> None:
    # The kernels take different paths for slopes 0, in (0, 1] and elsewhere.
    x = np.array([-np.inf, -2.5, -0.5, -0.0, 0.0, 1e-4, 0.5, 3.0, np.inf, np.nan], dtype=dtype)
    with np.errstate(over="ignore"):
        rounded = np.array(slope, dtype=dtype)  # 1e30 is inf in float16
    expected = np.array([rounded] * 5 + [1] * 4 + [np.nan], dtype=dtype)
    np.testing.assert_array_equal(actlib.leaky_relu_grad(x, slope), expected)
    np.testing.assert_array_equal(actlib.prelu_grad(x, slope), expected)
    per_channel = actlib.prelu_grad(np.stack([x, x]), [slope, 0.25], axis=0)
    np.testing.assert_array_equal(per_channel[0], expected)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda dtype: np.dtype(dtype).name)
def test_relu_grad_gives_zero_one_or_nan(dtype: type) -> None:
    x = np.array([-np.inf, -2.5, -0.5, -0.0, 0.0, 1e-4, 0.5, 3.0, np.inf, np.nan], dtype=dtype)
    expected = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, np.nan], dtype=dtype)
    np.testing.assert_array_equal(actlib.relu_grad(x), expected)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 7, 33, 4097])
def test_relu_of_negative_zero_is_positive_zero(dtype: type, size: int) -> None:
    # np.maximum's choice on a -0/+0 tie differs between float16 and float32/64.
    result = actlib.relu(np.full(size, -0.0, dtype=dtype))
    assert not np.signbit(result).any()

"""Property-based fuzzing of every function and derivative in `actlib.REGISTRY`.

Hypothesis draws float16, float32 and float64 arrays of any value (nan, ±inf, subnormals,
±0) and shape (0-d, empty, up to 4-D), puts them in a strided, transposed, read-only or
byte-swapped layout, and draws the activation's parameters. The properties come from
the contract in the `actlib` and `actlib._functions` docstrings. No call warns, the
result has the input dtype in native byte order and the input's shape, and a 0-d input
without `out` gives a NumPy scalar. The input stays unchanged, and neither its memory
layout nor `out` changes the result. The expected values come from the same function
on a C-contiguous native copy of the input, so these tests check consistency, not
accuracy (see test_actlib_accuracy.py).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actlib

# CI runs the same 60 examples per test on every run (derandomize, no example database).
# For a longer local fuzz with fresh random examples, which also saves failures in
# .hypothesis/ and replays them first on the next run:
#     ACTLIB_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/test_actlib_fuzz.py
_EXAMPLES = os.environ.get("ACTLIB_FUZZ_EXAMPLES")
if _EXAMPLES is None:
    FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None)
else:
    FUZZ = settings(max_examples=int(_EXAMPLES), deadline=None)

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
CASES = [
    pytest.param(name, role, id=f"{name}.{role}")
    for name in actlib.REGISTRY
    for role in ("function", "derivative")
]

# Finite values for the scalar parameters and PReLU slopes: the documented defaults of
# actlib and other frameworks, the branch limits 0 and 1, and arbitrary finite floats.
NOTABLE_SLOPES = (0.01, 0.2, 0.25, 0.3, 0.0, -0.0, 1.0, 1.5, -1.0, 1e300)
FINITE_PARAMETERS = st.one_of(
    st.sampled_from(NOTABLE_SLOPES),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True),
)
# None leaves the parameter out, so that actlib's default is fuzzed too.
PARAMETERS_OR_DEFAULT = st.none() | FINITE_PARAMETERS


def float_values(dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    """Return a strategy for any `dtype` value, drawing special values more often.

    Hypothesis draws nan, ±inf, subnormals and ±0 by itself, but an array then mostly
    repeats one fill value, so few arrays would contain them without the extra draws.
    """
    info = np.finfo(dtype)
    tiny = info.smallest_subnormal
    special = [np.nan, np.inf, 0.0, 1.0, info.max, info.smallest_normal, tiny, tiny * 3]
    special_values = [dtype.type(sign * value) for value in special for sign in (1, -1)]
    return st.sampled_from(special_values) | hnp.from_dtype(
        dtype, allow_nan=True, allow_infinity=True, allow_subnormal=True
    )


# Strategies are built once, here and in the cached functions below: hypothesis validates
# each new strategy object, and building them per draw about doubled the module's run time.
# Empty arrays come only from the second shape strategy, so most arrays have elements.
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5) | hnp.array_shapes(
    min_dims=1, max_dims=4, min_side=0, max_side=3
)
ARRAYS = st.one_of(
    [
        hnp.arrays(np.dtype(dtype), SHAPES, elements=float_values(np.dtype(dtype)))
        for dtype in FLOAT_DTYPES
    ]
)
SCALARS = st.one_of([float_values(np.dtype(dtype)) for dtype in FLOAT_DTYPES])
SHIFTS = st.integers(1, 3)


@dataclass(frozen=True)
class Layout:
    """Where a view with a given logical shape lies in a larger buffer.

    Attributes
    ----------
    steps : tuple of int
        The view's step along each logical axis, in elements of the buffer. A negative
        step walks the buffer backwards.
    memory_order : tuple of int
        The logical axes from the slowest-varying to the fastest-varying in memory;
        anything but ``range(ndim)`` makes the view a transpose.
    swap_bytes : bool
        Whether the buffer has the non-native byte order.
    read_only : bool
        Whether the buffer and the view are read-only.
    """

    steps: tuple[int, ...]
    memory_order: tuple[int, ...]
    swap_bytes: bool
    read_only: bool

    def view_into(self, buffer: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Return the view of `buffer` (laid out by `buffer_shape`) in logical axis order."""
        logical = buffer.transpose(np.argsort(self.memory_order))
        if not self.steps:
            # Indexing a 0-d array with () would return a scalar, not a view.
            return logical[...]
        return logical[tuple(slice(None, None, step) for step in self.steps)]

    def buffer_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Return the shape of a buffer that contains a view of `shape` in this layout."""
        return tuple(shape[axis] * abs(self.steps[axis]) for axis in self.memory_order)


@functools.cache
def layouts(ndim: int, *, native_writable: bool = False) -> st.SearchStrategy[Layout]:
    """Return a strategy for layouts of an `ndim`-dimensional view.

    With `native_writable`, the buffer keeps the native byte order and stays writable, as
    an `out` array must.
    """
    flags = st.just(False) if native_writable else st.booleans()
    return st.builds(
        Layout,
        steps=st.tuples(*[st.sampled_from((1, 1, 2, -1, -2, 3)) for _ in range(ndim)]),
        memory_order=st.permutations(range(ndim)).map(tuple),
        swap_bytes=flags,
        read_only=flags,
    )


def place(values: npt.NDArray[Any], layout: Layout) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Return a view with the values of `values` in `layout`, and the buffer it lies in.

    The buffer elements outside the view hold 12.375, so `assert_gaps_unchanged` detects
    any write into them that stores another value.
    """
    dtype = values.dtype.newbyteorder() if layout.swap_bytes else values.dtype
    buffer = np.full(layout.buffer_shape(values.shape), 12.375, dtype=dtype)
    view = layout.view_into(buffer)
    view[...] = values
    if layout.read_only:
        buffer.flags.writeable = False
        view.flags.writeable = False
    return view, buffer


def assert_gaps_unchanged(
    buffer: npt.NDArray[Any], layout: Layout, before: npt.NDArray[Any]
) -> None:
    """Assert that the elements of `buffer` outside the view still equal `before`."""
    in_view = np.zeros(buffer.shape, dtype=bool)
    layout.view_into(in_view)[...] = True
    assert buffer[~in_view].tobytes() == before[~in_view].tobytes(), "wrote outside the view"


def draw_arguments(
    data: st.DataObject, name: str, shape: tuple[int, ...]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Draw the positional and keyword arguments after `x` for the registry entry `name`.

    A parameter left out keeps actlib's default. Every parameter in the registry needs a
    rule here, so that a new parameter is fuzzed as soon as it is added.
    """
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = {}
    for parameter in actlib.REGISTRY[name].parameters:
        if parameter.name == "slope":
            args, kwargs = draw_prelu_arguments(data, shape)
        elif parameter.name in ("negative_slope", "alpha"):
            value = data.draw(PARAMETERS_OR_DEFAULT, label=parameter.name)
            if value is not None:
                kwargs[parameter.name] = value
        elif parameter.name == "approximate":
            form = data.draw(choice((None, "none", "tanh")), label="approximate")
            if form is not None:
                kwargs["approximate"] = form
        else:
            pytest.fail(f"{name} has parameter {parameter.name!r}; add a strategy for it here.")
    return args, kwargs


def draw_prelu_arguments(
    data: st.DataObject, shape: tuple[int, ...]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Draw a scalar slope, or one slope per channel along axis 1 or an explicit axis."""
    channel_axes = [axis for axis in range(len(shape)) if shape[axis] > 0]
    modes = ["scalar", "single-element"]
    if len(shape) >= 2 and shape[1] > 0:
        modes.append("per-channel")
    if channel_axes:
        modes.append("per-channel-explicit-axis")
    mode = data.draw(choice(tuple(modes)), label="slope mode")

    if mode == "scalar":
        return (data.draw(FINITE_PARAMETERS, label="slope"),), {}
    if mode == "single-element":
        return (np.array([data.draw(FINITE_PARAMETERS, label="slope")]),), {}

    if mode == "per-channel":
        axis = 1
        kwargs: dict[str, Any] = {}
    else:
        axis = data.draw(choice(tuple(channel_axes)), label="axis")
        signed_axis = data.draw(choice((axis, axis - len(shape))), label="signed axis")
        kwargs = {"axis": signed_axis}
    slope_dtype = data.draw(choice(("float64", "float32")), label="slope dtype")
    slopes = data.draw(slope_arrays(slope_dtype, shape[axis]), label="slopes")
    return (slopes,), kwargs


@functools.cache
def slope_arrays(dtype: str, size: int) -> st.SearchStrategy[npt.NDArray[Any]]:
    """Return a strategy for 1-D arrays of `size` finite slopes of `dtype`."""
    elements = hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.dtype(dtype), size, elements=elements)


@functools.cache
def choice(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """Return ``st.sampled_from(options)``, built once per tuple of options."""
    return st.sampled_from(options)


def evaluate(
    function: Callable[..., Any],
    x: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    out: npt.NDArray[Any] | None = None,
) -> Any:
    """Call `function` with every warning turned into an error, and `out` if given."""
    if out is not None:
        kwargs = {**kwargs, "out": out}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return function(x, *args, **kwargs)


def assert_same_result(actual: Any, expected: Any) -> None:
    """Assert equal dtype, shape, values (nan equals nan) and signs of zero."""
    actual_array = np.asarray(actual)
    expected_array = np.asarray(expected)
    assert actual_array.dtype == expected_array.dtype
    assert actual_array.shape == expected_array.shape
    np.testing.assert_array_equal(actual_array, expected_array)
    # actlib documents nothing about the sign of a nan, so only numbers are compared.
    numbers = ~np.isnan(expected_array)
    np.testing.assert_array_equal(
        np.signbit(actual_array)[numbers],
        np.signbit(expected_array)[numbers],
        err_msg="signs differ (-0.0 against 0.0?)",
    )


def draw_case(
    data: st.DataObject, name: str, role: str
) -> tuple[Callable[..., Any], npt.NDArray[Any], tuple[Any, ...], dict[str, Any], Any]:
    """Draw values and arguments, and return them with the result for the contiguous input."""
    function = getattr(actlib.REGISTRY[name], role)
    values = data.draw(ARRAYS, label="values")
    args, kwargs = draw_arguments(data, name, values.shape)
    expected = evaluate(function, values.copy(), args, kwargs)
    return function, values, args, kwargs, expected


@pytest.mark.parametrize(("name", "role"), CASES)
@FUZZ
@given(data=st.data())
def test_layout_does_not_change_result(name: str, role: str, data: st.DataObject) -> None:
    function, values, args, kwargs, expected = draw_case(data, name, role)
    layout = data.draw(layouts(values.ndim), label="layout")
    x, buffer = place(values, layout)
    buffer_before = buffer.copy()

    result = evaluate(function, x, args, kwargs)

    assert buffer.tobytes() == buffer_before.tobytes(), "input modified"
    assert result.dtype == values.dtype, "expected the input dtype in native byte order"
    assert result.shape == values.shape
    assert_same_result(result, expected)
    if values.ndim == 0:
        assert type(result) is values.dtype.type, "0-d input must return a NumPy scalar"
    else:
        assert type(result) is np.ndarray
        assert not np.may_share_memory(result, buffer), "result is a view of the input"


@pytest.mark.parametrize(("name", "role"), CASES)
@FUZZ
@given(data=st.data())
def test_scalar_input_returns_numpy_scalar(name: str, role: str, data: st.DataObject) -> None:
    function = getattr(actlib.REGISTRY[name], role)
    value = data.draw(SCALARS, label="value")
    dtype = value.dtype
    args, kwargs = draw_arguments(data, name, ())
    expected = evaluate(function, np.array([value]), args, kwargs)[0]

    scalar_result = evaluate(function, value, args, kwargs)
    zero_dimensional_result = evaluate(function, np.array(value), args, kwargs)

    for result in (scalar_result, zero_dimensional_result):
        assert type(result) is dtype.type, "0-d input must return a NumPy scalar"
        assert_same_result(result, expected)
    if dtype == np.float64:
        assert_same_result(evaluate(function, float(value), args, kwargs), expected)


@pytest.mark.parametrize(("name", "role"), CASES)
@FUZZ
@given(data=st.data())
def test_out_receives_same_result(name: str, role: str, data: st.DataObject) -> None:
    function, values, args, kwargs, expected = draw_case(data, name, role)
    x, x_buffer = place(values, data.draw(layouts(values.ndim), label="input layout"))
    x_before = x_buffer.copy()
    out_layout = data.draw(layouts(values.ndim, native_writable=True), label="out layout")
    out, out_buffer = place(np.zeros_like(values), out_layout)
    out_before = out_buffer.copy()

    result = evaluate(function, x, args, kwargs, out=out)

    assert result is out, "expected out itself as the return value"
    assert_same_result(out, expected)
    assert_gaps_unchanged(out_buffer, out_layout, out_before)
    assert x_buffer.tobytes() == x_before.tobytes(), "input modified"


@pytest.mark.parametrize(("name", "role"), CASES)
@FUZZ
@given(data=st.data())
def test_out_aliasing_input_matches(name: str, role: str, data: st.DataObject) -> None:
    function, values, args, kwargs, expected = draw_case(data, name, role)
    layout = data.draw(layouts(values.ndim, native_writable=True), label="layout")
    x, buffer = place(values, layout)
    buffer_before = buffer.copy()

    result = evaluate(function, x, args, kwargs, out=x)

    assert result is x, "expected out itself as the return value"
    assert_same_result(x, expected)
    assert_gaps_unchanged(buffer, layout, buffer_before)


@pytest.mark.parametrize(("name", "role"), CASES)
@FUZZ
@given(data=st.data())
def test_out_overlapping_input_matches(name: str, role: str, data: st.DataObject) -> None:
    # x and out are shifted views of one buffer, as with x = a[1:], out = a[:-1].
    function, values, args, kwargs, expected = draw_case(data, name, role)
    shift = data.draw(SHIFTS, label="shift")
    out_first = data.draw(st.booleans(), label="out starts first")
    buffer = np.full(values.size + shift, 12.375, dtype=values.dtype)
    x_start, out_start = (shift, 0) if out_first else (0, shift)
    x = buffer[x_start : x_start + values.size].reshape(values.shape)
    out = buffer[out_start : out_start + values.size].reshape(values.shape)
    x[...] = values

    result = evaluate(function, x, args, kwargs, out=out)

    assert result is out, "expected out itself as the return value"
    assert_same_result(out, expected)

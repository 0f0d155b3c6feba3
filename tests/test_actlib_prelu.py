"""PReLU's channel axis: per-channel slopes apply along an explicit axis, never the last.

Expected values are written out by hand or built with an explicit NumPy reshape of the
slope, independent of actlib's broadcasting code.
"""

from __future__ import annotations

import numpy as np
import pytest

import actlib


def test_channel_slopes_follow_axis_one_by_default() -> None:
    x = -np.ones((1, 2, 2, 2))
    result = actlib.prelu(x, [0.1, 0.2])
    np.testing.assert_array_equal(result[0, 0], np.full((2, 2), -0.1))
    np.testing.assert_array_equal(result[0, 1], np.full((2, 2), -0.2))


def test_derivative_slopes_follow_axis_one_by_default() -> None:
    x = -np.ones((1, 2, 2, 2))
    result = actlib.prelu_grad(x, [0.1, 0.2])
    np.testing.assert_array_equal(result[0, 0], np.full((2, 2), 0.1))
    np.testing.assert_array_equal(result[0, 1], np.full((2, 2), 0.2))


def test_channel_axis_not_taken_from_last_axis() -> None:
    # With C == W the trailing-axis broadcast of ONNX PRelu would give another result.
    x = -np.arange(1.0, 9.0).reshape(1, 2, 2, 2)
    slope = np.array([0.1, 0.2])
    expected = x * slope.reshape(2, 1, 1)
    trailing = x * slope
    np.testing.assert_array_equal(actlib.prelu(x, slope), expected)
    assert not np.array_equal(actlib.prelu(x, slope), trailing)


def test_explicit_last_axis_matches_trailing_broadcast() -> None:
    # axis=-1 reproduces ONNX PRelu with a slope of shape (C,) on channels-last data.
    x = np.linspace(-4, 4, 24).reshape(2, 4, 3)
    slope = np.array([0.1, 0.2, 0.3])
    expected = np.where(x > 0, x, x * slope)
    np.testing.assert_array_equal(actlib.prelu(x, slope, axis=-1), expected)
    np.testing.assert_array_equal(actlib.prelu(x, slope, axis=2), expected)


def test_onnx_layout_slope_shape_matches_default_axis() -> None:
    # ONNX PRelu needs slope of shape (C, 1, 1) for NCHW; actlib takes (C,) and axis=1.
    x = np.linspace(-5, 5, 2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    slope = np.array([0.05, 0.5, 2.0])
    onnx_style = np.where(x > 0, x, x * slope.reshape(3, 1, 1))
    np.testing.assert_array_equal(actlib.prelu(x, slope), onnx_style)


def test_single_slope_applies_to_every_channel() -> None:
    x = np.linspace(-3, 3, 12).reshape(2, 3, 2)
    expected = np.where(x > 0, x, 0.3 * x)
    np.testing.assert_array_equal(actlib.prelu(x, 0.3), expected)
    np.testing.assert_array_equal(actlib.prelu(x, [0.3]), expected)
    np.testing.assert_array_equal(actlib.prelu(x, np.array([0.3])), expected)


def test_one_dimensional_input_takes_scalar_slope() -> None:
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    np.testing.assert_array_equal(actlib.prelu(x, 0.25), [-0.5, -0.125, 0.0, 1.5])


def test_one_dimensional_input_rejects_slope_vector_without_axis() -> None:
    with pytest.raises(ValueError, match="no channel axis") as raised:
        actlib.prelu(np.array([-1.0, -2.0]), [0.1, 0.2])
    assert "2 slopes" in str(raised.value)


def test_vector_with_axis_zero_is_per_element() -> None:
    x = np.array([-1.0, -2.0, 3.0])
    np.testing.assert_array_equal(actlib.prelu(x, [0.1, 0.2, 0.3], axis=0), [-0.1, -0.4, 3.0])


def test_slope_count_mismatch_names_both_sizes() -> None:
    x = np.zeros((4, 3, 5))
    with pytest.raises(ValueError, match="got 2 slopes but the input has 3 channels"):
        actlib.prelu(x, [0.1, 0.2])


def test_mismatch_on_explicit_axis_names_sizes() -> None:
    x = np.zeros((4, 3, 5))
    with pytest.raises(ValueError, match="got 3 slopes but the input has 5 channels along axis 2"):
        actlib.prelu_grad(x, [0.1, 0.2, 0.3], axis=-1)


@pytest.mark.parametrize("axis", [3, -4, 10])
def test_axis_out_of_range_raises_axis_error(axis: int) -> None:
    with pytest.raises(np.exceptions.AxisError, match="prelu"):
        actlib.prelu(np.zeros((2, 3, 4)), 0.1, axis=axis)


def test_axis_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="out of bounds"):
        actlib.prelu(np.zeros((2, 3)), 0.1, axis=2)


@pytest.mark.parametrize("axis", [1.0, "1", True])
def test_non_integer_axis_raises_type_error(axis: object) -> None:
    with pytest.raises(TypeError, match="integer axis"):
        actlib.prelu(np.zeros((2, 3)), 0.1, axis=axis)  # type: ignore[arg-type]


def test_numpy_integer_axis_accepted() -> None:
    x = -np.ones((2, 3))
    np.testing.assert_array_equal(actlib.prelu(x, [1.0, 2.0], axis=np.int64(0))[:, 0], [-1.0, -2.0])


def test_two_dimensional_slope_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"scalar or 1-D slope, got shape \(2, 1\)"):
        actlib.prelu(np.zeros((1, 2, 3)), [[0.1], [0.2]])


def test_empty_slope_raises_value_error() -> None:
    with pytest.raises(ValueError, match="empty slope"):
        actlib.prelu(np.zeros((1, 2)), [])


@pytest.mark.parametrize("slope", [np.nan, np.inf, [0.1, np.nan]])
def test_non_finite_slope_raises_value_error(slope: object) -> None:
    with pytest.raises(ValueError, match="finite slopes"):
        actlib.prelu(np.zeros((1, 2)), slope)  # type: ignore[arg-type]


@pytest.mark.parametrize("slope", [1j, "0.1", [None, None]])
def test_non_real_slope_raises_type_error(slope: object) -> None:
    with pytest.raises(TypeError, match="prelu_grad\\(\\) expected a real slope"):
        actlib.prelu_grad(np.zeros((1, 2)), slope)  # type: ignore[arg-type]


def test_derivative_at_zero_is_the_channel_slope() -> None:
    # PyTorch's PReLU backward: input > 0 ? grad : weight * grad.
    x = np.array([[0.0, -0.0, 1.0], [0.0, -0.0, -1.0]])
    result = actlib.prelu_grad(x, [0.1, 0.2], axis=0)
    np.testing.assert_array_equal(result, [[0.1, 0.1, 1.0], [0.2, 0.2, 0.2]])


def test_derivative_of_nan_is_nan() -> None:
    assert np.isnan(actlib.prelu_grad(np.array([np.nan]), 0.5)[0])


def test_zero_slope_at_negative_infinity_gives_zero() -> None:
    result = actlib.prelu(np.array([[-np.inf, -np.inf]]), [0.0, 0.5])
    np.testing.assert_array_equal(result, [[0.0, -np.inf]])


def test_float32_input_rounds_exact_product_once() -> None:
    # 0.1 is not a float32 value: the product uses the float64 slope, then one rounding.
    x = np.array([-3.0, -7.0, -1e-3], dtype=np.float32)
    result = actlib.prelu(x, 0.1)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, (x.astype(np.float64) * 0.1).astype(np.float32))


def test_integer_input_promoted_and_slope_kept_in_float64() -> None:
    x = np.array([[-3, 2]], dtype=np.int16)
    result = actlib.prelu(x, [0.5, 0.25])
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, [[-1.5, 2.0]])


def test_out_receives_channel_result() -> None:
    x = -np.ones((1, 2, 2))
    out = np.empty_like(x)
    assert actlib.prelu(x, [0.1, 0.2], out=out) is out
    np.testing.assert_array_equal(out[0, :, 0], [-0.1, -0.2])


def test_zero_dimensional_input_returns_scalar() -> None:
    result = actlib.prelu(np.float32(-2.0), 0.5)
    assert type(result) is np.float32
    assert result == -1.0


@pytest.mark.parametrize(
    "slopes",
    [[0.5, 2.0, -1.0], [1.0, 3.0, 1.5], [0.0, 0.25, 1.0], [-0.5, -2.0, 0.75]],
    ids=["mixed", "all-above-one", "with-zero", "negative"],
)
def test_any_slope_signs_match_explicit_branches(slopes: list[float]) -> None:
    x = np.array([-np.inf, -3.0, -0.5, -0.0, 0.0, 0.5, 3.0, np.inf])
    grid = np.stack([x, x, x], axis=1)[np.newaxis]  # shape (1, 8, 3): channels on axis 2
    slope = np.array(slopes)
    with np.errstate(invalid="ignore"):
        # -inf * 0 is nan in the reference too; the limit 0 is set explicitly.
        negative = grid * slope
    negative[np.isneginf(grid) & (slope == 0)] = 0.0
    expected = np.where(grid > 0, grid, negative)
    np.testing.assert_array_equal(actlib.prelu(grid, slope, axis=2), expected)


def test_large_input_spans_blocks_along_channels() -> None:
    # More elements than one block, with channels in the middle: every block must take
    # the slope of its own rows.
    x = -np.ones((3, 4, 20000))
    slope = np.array([0.1, 0.2, 0.3, 0.4])
    result = actlib.prelu(x, slope)
    for channel, value in enumerate(slope):
        assert np.all(result[:, channel, :] == -value)
    grad = actlib.prelu_grad(x, slope)
    for channel, value in enumerate(slope):
        assert np.all(grad[:, channel, :] == value)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("slope", [-2.0, -1.0, 0.5, 2.0])
def test_signed_zero_follows_slope_times_x(dtype: type, slope: float) -> None:
    # For x = ±0 the formula gives slope·x, whose sign np.maximum/np.minimum must keep.
    x = np.array([-0.0, 0.0], dtype=dtype)
    expected = np.signbit(np.float64(slope) * x.astype(np.float64))
    np.testing.assert_array_equal(np.signbit(actlib.prelu(x, slope)), expected)
    np.testing.assert_array_equal(np.signbit(actlib.leaky_relu(x, slope)), expected)

"""Public activation functions and their derivatives.

Each function validates its input once through `_checks.evaluate` and hands float64
blocks to a kernel from `_kernels` or `_gelu`. The docstrings share one input contract:

* float16, float32 and float64 keep their dtype (any byte order in, native out);
* booleans and integers are promoted as NumPy ufuncs such as ``np.tanh`` promote them:
  bool, int8 and uint8 give float16, int16 and uint16 float32, wider integers float64;
* complex, object, string and long double input raise TypeError;
* a 0-d input returns a NumPy scalar, and ``out=`` must match the result's shape and dtype.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from actlib import _gelu, _kernels
from actlib._checks import Kernel, evaluate, validate_real_parameter

__all__ = [
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
]

FloatArray = npt.NDArray[np.floating[Any]]
Result = FloatArray | np.floating[Any]
GeluApproximation = Literal["none", "tanh"]

_SIGMOID = Kernel(_kernels.sigmoid, _kernels.sigmoid_low_precision)
_SIGMOID_GRAD = Kernel(_kernels.sigmoid_grad, _kernels.sigmoid_grad_low_precision)
_TANH = Kernel(_kernels.tanh)
_TANH_GRAD = Kernel(_kernels.tanh_grad, _kernels.tanh_grad_low_precision)
_RELU = Kernel(_kernels.relu, native=True)
_RELU_GRAD = Kernel(_kernels.relu_grad, native=True)
_SELU = Kernel(_kernels.selu)
_SELU_GRAD = Kernel(_kernels.selu_grad)
_GELU = {
    "none": Kernel(_gelu.gelu, _gelu.gelu_low_precision),
    "tanh": Kernel(_gelu.gelu_tanh, _gelu.gelu_tanh_low_precision),
}
_GELU_GRAD = {
    "none": Kernel(_gelu.gelu_grad, _gelu.gelu_grad_low_precision),
    "tanh": Kernel(_gelu.gelu_tanh_grad, _gelu.gelu_tanh_grad_low_precision),
}


def sigmoid(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Logistic sigmoid, element-wise.

    .. math:: \sigma(x) = \frac{1}{1 + e^{-x}}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        σ(x), in [0, 1]; a NumPy scalar when `x` is 0-d and `out` is None.

    See Also
    --------
    sigmoid_grad : The derivative σ(x)(1 - σ(x)).

    Notes
    -----
    ``1/(1 + exp(-x))`` overflows in exp for x < -709 and ``exp(x)/(1 + exp(x))`` for
    x > 709, with a RuntimeWarning, although the limits 0 and 1 are right. This function
    takes the first form for x >= 0 and the second for x < 0, so exp never overflows. In
    float64 it evaluates both forms itself, because `scipy.special.expit` (which does
    the same) returns 0 below x = -709.78, where σ(x) is still a representable
    subnormal. float16 and float32 input goes through expit in float64 and is rounded
    once. The error is at most 2 ULP in float64 and 1 ULP in float16 and float32 on the
    points of tests/test_actlib_accuracy.py.

    References
    ----------
    D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning representations by
    back-propagating errors", Nature 323, 1986.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.sigmoid(0.0)
    np.float64(0.5)
    >>> actlib.sigmoid(np.array([-800.0, -1.0, 0.0, 800.0], dtype=np.float32))
    array([0.        , 0.26894143, 0.5       , 1.        ], dtype=float32)

    The textbook formula overflows on the way to the same 0:

    >>> with np.errstate(over="raise"):
    ...     1 / (1 + np.exp(800.0))
    Traceback (most recent call last):
        ...
    FloatingPointError: overflow encountered in exp
    """
    return evaluate(_SIGMOID, x, out, function="sigmoid")


def sigmoid_grad(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Derivative of the logistic sigmoid, element-wise.

    .. math:: \sigma'(x) = \sigma(x)\,(1 - \sigma(x)) = \frac{e^{-|x|}}{(1 + e^{-|x|})^2}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        σ'(x), in [0, 1/4].

    See Also
    --------
    sigmoid : The function itself.

    Notes
    -----
    ``s*(1 - s)`` with ``s = σ(x)`` loses every digit for x > 37, where s rounds to 1. The
    right-hand form has no subtraction and no overflow; in float64 its denominator is
    evaluated in double-double. The error is at most 4 ULP in float64 and 1 ULP in
    float16 and float32 on the points of tests/test_actlib_accuracy.py.

    References
    ----------
    D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning representations by
    back-propagating errors", Nature 323, 1986.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.sigmoid_grad(0.0)
    np.float64(0.25)
    >>> actlib.sigmoid_grad(40.0)
    np.float64(4.248354255291589e-18)

    The textbook formula returns 0 there:

    >>> s = actlib.sigmoid(40.0)
    >>> s * (1 - s)
    np.float64(0.0)
    """
    return evaluate(_SIGMOID_GRAD, x, out, function="sigmoid_grad")


def tanh(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Hyperbolic tangent, element-wise.

    .. math:: \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        tanh(x), in [-1, 1].

    See Also
    --------
    tanh_grad : The derivative 1 - tanh²(x).

    Notes
    -----
    Evaluates `numpy.tanh` (in float64 for float16 and float32 input, rounded once). The
    error is at most 2 ULP in float64 and 1 ULP in float16 and float32 on the points of
    tests/test_actlib_accuracy.py.

    References
    ----------
    Y. LeCun, L. Bottou, G. B. Orr and K.-R. Müller, "Efficient BackProp", in
    Neural Networks: Tricks of the Trade, Springer, 1998.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.tanh(np.array([-1.0, 0.0, 1.0]))
    array([-0.76159416,  0.        ,  0.76159416])
    >>> actlib.tanh(np.float16(0.5))
    np.float16(0.4622)
    """
    return evaluate(_TANH, x, out, function="tanh")


def tanh_grad(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Derivative of the hyperbolic tangent, element-wise.

    .. math:: \tanh'(x) = 1 - \tanh^2(x) = \frac{4 e^{-2|x|}}{(1 + e^{-2|x|})^2}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        tanh'(x) = sech²(x), in [0, 1].

    See Also
    --------
    tanh : The function itself.

    Notes
    -----
    ``1 - tanh(x)**2`` returns 0 for |x| > 19.1, where tanh(x) rounds to ±1, although
    sech²(x) stays above the float64 range down to |x| = 372. The right-hand form has no
    subtraction; in float64 its denominator is evaluated in double-double. The error is
    at most 4 ULP in float64 and 1 ULP in float16 and float32 on the points of
    tests/test_actlib_accuracy.py.

    References
    ----------
    Y. LeCun, L. Bottou, G. B. Orr and K.-R. Müller, "Efficient BackProp", in
    Neural Networks: Tricks of the Trade, Springer, 1998.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.tanh_grad(0.0)
    np.float64(1.0)
    >>> actlib.tanh_grad(20.0)
    np.float64(1.6993417021166355e-17)
    >>> 1 - np.tanh(20.0) ** 2
    np.float64(0.0)
    """
    return evaluate(_TANH_GRAD, x, out, function="tanh_grad")


def relu(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Rectified linear unit, element-wise.

    .. math:: \operatorname{ReLU}(x) = \max(x, 0)

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        max(x, 0); nan stays nan. Exact in every dtype.

    See Also
    --------
    relu_grad : The derivative.
    leaky_relu : A variant with a small slope for x < 0.

    Notes
    -----
    ``numpy.maximum(x, 0)`` in the result dtype: every result is an input or 0, so it is
    exact and needs no float64 round trip. -0.0 gives 0.0.

    References
    ----------
    V. Nair and G. E. Hinton, "Rectified Linear Units Improve Restricted Boltzmann
    Machines", ICML 2010.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.relu(np.array([-2.0, 0.0, 3.0], dtype=np.float32))
    array([0., 0., 3.], dtype=float32)
    >>> actlib.relu(np.array([-2, 3], dtype=np.int16))
    array([0., 3.], dtype=float32)
    """
    return evaluate(_RELU, x, out, function="relu")


def relu_grad(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Derivative of ReLU, element-wise, with PyTorch's value 0 at the kink.

    .. math:: \operatorname{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        1 for x > 0, 0 for x <= 0 and nan for nan.

    See Also
    --------
    relu : The function itself.

    Notes
    -----
    ReLU has no derivative at 0. PyTorch's autograd returns 0 there (``relu`` backward is
    ``threshold_backward(grad, result, 0)``, which zeroes the gradient where the result
    is <= 0), and so does this function. For nan input this function returns nan, where
    PyTorch passes the incoming gradient through.

    References
    ----------
    V. Nair and G. E. Hinton, "Rectified Linear Units Improve Restricted Boltzmann
    Machines", ICML 2010.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.relu_grad(np.array([-1.0, 0.0, 2.0, np.nan]))
    array([ 0.,  0.,  1., nan])
    """
    return evaluate(_RELU_GRAD, x, out, function="relu_grad")


def leaky_relu(
    x: npt.ArrayLike, /, negative_slope: float = 0.01, *, out: FloatArray | None = None
) -> Result:
    r"""Leaky ReLU, element-wise.

    .. math::
        \operatorname{LeakyReLU}(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    negative_slope : float, default 0.01
        The slope α for x <= 0, a finite real number. The default is that of PyTorch and
        ONNX; ``tf.nn.leaky_relu`` and ``keras.activations.leaky_relu`` use 0.2 and the
        ``keras.layers.LeakyReLU`` layer 0.3.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        x for x > 0, α·x otherwise.

    Raises
    ------
    TypeError
        If `negative_slope` is not a real number.
    ValueError
        If `negative_slope` is nan or infinite.

    See Also
    --------
    leaky_relu_grad : The derivative.
    prelu : The same function with a learned, possibly per-channel slope.

    Notes
    -----
    α·x is computed in float64 from x and the float64 value of α, then rounded to the
    input dtype. In float64 that is one rounding. In float16 and float32 the result is
    within 1 ULP, because the float64 product can land on a rounding midpoint. PyTorch
    rounds α to the input dtype first, so its float16 and float32 results can differ in the
    last bit.
    With ``negative_slope=0`` the result is ReLU, with +0 for x <= 0.

    References
    ----------
    A. L. Maas, A. Y. Hannun and A. Y. Ng, "Rectifier Nonlinearities Improve Neural
    Network Acoustic Models", ICML Workshop on Deep Learning for Audio, Speech and
    Language Processing, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.leaky_relu(np.array([-2.0, 0.0, 3.0]))
    array([-0.02,  0.  ,  3.  ])
    >>> actlib.leaky_relu(-2.0, 0.2)
    np.float64(-0.4)
    """
    slope = validate_real_parameter(negative_slope, name="negative_slope", function="leaky_relu")
    kernel = Kernel(functools.partial(_kernels.leaky_relu, negative_slope=slope))
    return evaluate(kernel, x, out, function="leaky_relu")


def leaky_relu_grad(
    x: npt.ArrayLike, /, negative_slope: float = 0.01, *, out: FloatArray | None = None
) -> Result:
    r"""Derivative of leaky ReLU, element-wise, with PyTorch's value α at the kink.

    .. math::
        \operatorname{LeakyReLU}'(x) = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    negative_slope : float, default 0.01
        The slope α for x <= 0, a finite real number.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        1 for x > 0, α (rounded to the result dtype) for x <= 0, nan for nan.

    Raises
    ------
    TypeError
        If `negative_slope` is not a real number.
    ValueError
        If `negative_slope` is nan or infinite.

    See Also
    --------
    leaky_relu : The function itself.

    Notes
    -----
    At x = 0 PyTorch's ``leaky_relu`` backward computes ``x > 0 ? grad : grad * slope``,
    so the derivative there is α; this function does the same.

    References
    ----------
    A. L. Maas, A. Y. Hannun and A. Y. Ng, "Rectifier Nonlinearities Improve Neural
    Network Acoustic Models", ICML Workshop on Deep Learning for Audio, Speech and
    Language Processing, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.leaky_relu_grad(np.array([-1.0, 0.0, 1.0]))
    array([0.01, 0.01, 1.  ])
    """
    slope = validate_real_parameter(
        negative_slope, name="negative_slope", function="leaky_relu_grad"
    )
    kernel = Kernel(functools.partial(_kernels.leaky_relu_grad, negative_slope=slope), native=True)
    return evaluate(kernel, x, out, function="leaky_relu_grad")


def elu(x: npt.ArrayLike, /, alpha: float = 1.0, *, out: FloatArray | None = None) -> Result:
    r"""Exponential linear unit, element-wise.

    .. math::
        \operatorname{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    alpha : float, default 1.0
        The scale α of the negative branch, a finite real number. PyTorch, ONNX and Keras
        all default to 1.0.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        ELU(x), in (-α, inf) for α > 0.

    Raises
    ------
    TypeError
        If `alpha` is not a real number.
    ValueError
        If `alpha` is nan or infinite.

    See Also
    --------
    elu_grad : The derivative.
    selu : ELU scaled by fixed constants.

    Notes
    -----
    ``exp(x) - 1`` loses the digits of small |x| (at x = 1e-10 it is wrong from the 8th
    digit on); this function uses ``expm1``. The error is at most 2 ULP in float64 and
    1 ULP in float16 and float32 on the points of tests/test_actlib_accuracy.py.

    References
    ----------
    D.-A. Clevert, T. Unterthiner and S. Hochreiter, "Fast and Accurate Deep Network
    Learning by Exponential Linear Units (ELUs)", ICLR 2016.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.elu(np.array([-1.0, 0.0, 2.0]))
    array([-0.63212056,  0.        ,  2.        ])
    >>> actlib.elu(-1e-10)
    np.float64(-9.999999999500001e-11)
    >>> np.exp(-1e-10) - 1
    np.float64(-1.000000082740371e-10)
    """
    scale = validate_real_parameter(alpha, name="alpha", function="elu")
    kernel = Kernel(functools.partial(_kernels.elu, alpha=scale))
    return evaluate(kernel, x, out, function="elu")


def elu_grad(x: npt.ArrayLike, /, alpha: float = 1.0, *, out: FloatArray | None = None) -> Result:
    r"""Derivative of ELU, element-wise, with PyTorch's value α at the kink.

    .. math::
        \operatorname{ELU}'(x) = \begin{cases} 1 & x > 0 \\ \alpha\,e^{x} & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    alpha : float, default 1.0
        The scale α of the negative branch, a finite real number.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        ELU'(x).

    Raises
    ------
    TypeError
        If `alpha` is not a real number.
    ValueError
        If `alpha` is nan or infinite.

    See Also
    --------
    elu : The function itself.

    Notes
    -----
    PyTorch's ``elu_backward`` (with ``is_result=False``) computes
    ``x <= 0 ? grad * alpha * exp(x) : grad``, so at x = 0 the derivative is α. For the
    default α = 1 both one-sided derivatives are 1 and ELU is continuously differentiable.

    References
    ----------
    D.-A. Clevert, T. Unterthiner and S. Hochreiter, "Fast and Accurate Deep Network
    Learning by Exponential Linear Units (ELUs)", ICLR 2016.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.elu_grad(np.array([-1.0, 0.0, 2.0]), alpha=0.5)
    array([0.18393972, 0.5       , 1.        ])
    """
    scale = validate_real_parameter(alpha, name="alpha", function="elu_grad")
    kernel = Kernel(functools.partial(_kernels.elu_grad, alpha=scale))
    return evaluate(kernel, x, out, function="elu_grad")


def selu(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Scaled exponential linear unit, element-wise.

    .. math::
        \operatorname{SELU}(x) = \lambda \begin{cases} x & x > 0 \\
        \alpha\,(e^{x} - 1) & x \le 0 \end{cases}

    with the fixed constants α = `SELU_ALPHA` ≈ 1.6733 and λ = `SELU_SCALE` ≈ 1.0507.

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        SELU(x), in (-λα, inf).

    See Also
    --------
    selu_grad : The derivative.
    elu : The unscaled function with a free α.

    Notes
    -----
    α and λ are the closed forms of Klambauer et al. (2017), which make zero mean and
    unit variance a fixed point of a layer's activations, rounded to float64:

    .. math::
        \alpha = -\frac{\sqrt{2/\pi}}{\operatorname{erfc}(1/\sqrt{2})\,e^{1/2} - 1}

    and λ from the same paper (its value ≈ 1.0507009873554805). ONNX ``Selu`` stores the
    float32 values 1.67326319217681884765625 and 1.05070102214813232421875 as its
    default attributes. The negative branch multiplies ``expm1(x)`` by λα rounded once.

    References
    ----------
    G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter, "Self-Normalizing Neural
    Networks", NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.selu(np.array([-1.0, 0.0, 1.0]))
    array([-1.11133074,  0.        ,  1.05070099])
    """
    return evaluate(_SELU, x, out, function="selu")


def selu_grad(x: npt.ArrayLike, /, *, out: FloatArray | None = None) -> Result:
    r"""Derivative of SELU, element-wise, with PyTorch's value λα at the kink.

    .. math::
        \operatorname{SELU}'(x) = \lambda \begin{cases} 1 & x > 0 \\
        \alpha\,e^{x} & x \le 0 \end{cases}

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        SELU'(x).

    See Also
    --------
    selu : The function itself.

    Notes
    -----
    PyTorch computes SELU through ``elu_backward`` with ``alpha = α`` and ``scale = λ``,
    which takes the x <= 0 branch at 0: the derivative there is λα ≈ 1.7581, the left
    derivative, not λ ≈ 1.0507. This function does the same.

    References
    ----------
    G. Klambauer, T. Unterthiner, A. Mayr and S. Hochreiter, "Self-Normalizing Neural
    Networks", NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.selu_grad(np.array([-1.0, 0.0, 1.0]))
    array([0.6467686 , 1.75809934, 1.05070099])
    """
    return evaluate(_SELU_GRAD, x, out, function="selu_grad")


def _gelu_kernel(kernels: dict[str, Kernel], approximate: object, function: str) -> Kernel:
    if isinstance(approximate, str) and approximate in kernels:
        return kernels[approximate]
    raise ValueError(f"{function}() got approximate={approximate!r}; choose one of 'none', 'tanh'.")


def gelu(
    x: npt.ArrayLike,
    /,
    approximate: GeluApproximation = "none",
    *,
    out: FloatArray | None = None,
) -> Result:
    r"""Gaussian error linear unit, element-wise: the exact form or its tanh approximation.

    .. math::
        \operatorname{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + \operatorname{erf}
        \frac{x}{\sqrt{2}}\right)

    and, with ``approximate="tanh"``,

    .. math::
        \operatorname{GELU}_{\tanh}(x) = \frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,
        (x + 0.044715\,x^{3})\right)\right)

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    approximate : {"none", "tanh"}, default "none"
        Which form to evaluate; the names and the default are those of PyTorch and of the
        ONNX ``Gelu`` attribute. ``jax.nn.gelu`` and ``keras.ops.gelu`` default to the tanh
        form, ``tf.nn.gelu`` and ``keras.activations.gelu`` to the exact one.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        GELU(x); its minimum is about -0.16997 at x ≈ -0.7518.

    Raises
    ------
    ValueError
        If `approximate` is neither "none" nor "tanh".

    See Also
    --------
    gelu_grad : The derivative.

    Notes
    -----
    ``0.5*x*(1 + erf(x/√2))`` cancels for x < 0 and returns -0 below x ≈ -8.3. Even the
    stable ``0.5*x*erfc(-x/√2)`` amplifies the rounding of ``x/√2`` by about x²: 48 ULP at
    x = -10, 700 at x = -30. In float64 this function keeps ``-x/√2``, ``x²`` and the tanh
    argument in double-double, and it replaces scipy's erfc where that is not accurate
    (see ``actlib/_gelu.py``). It returns the representable negative values down to
    x ≈ -38.58 (tanh form: -21.55) instead of -0. float16 and float32 results come from
    the plain float64 formulas, rounded once.

    Measured on the points of tests/test_actlib_accuracy.py, the error is at most 4 ULP
    in float64 (both forms, every x) and 1 ULP in float16 and float32.

    References
    ----------
    D. Hendrycks and K. Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415,
    2016.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.gelu(np.array([-1.0, 0.0, 1.0]))
    array([-0.15865525,  0.        ,  0.84134475])
    >>> actlib.gelu(np.array([-1.0, 0.0, 1.0]), approximate="tanh")
    array([-0.15880801,  0.        ,  0.84119199])
    >>> actlib.gelu(-10.0)
    np.float64(-7.619853024160526e-23)

    The textbook formula rounds erf to -1 there and returns -0:

    >>> from scipy.special import erf
    >>> x = -10.0
    >>> 0.5 * x * (1 + erf(x / np.sqrt(2)))
    np.float64(-0.0)
    """
    kernel = _gelu_kernel(_GELU, approximate, "gelu")
    return evaluate(kernel, x, out, function="gelu")


def gelu_grad(
    x: npt.ArrayLike,
    /,
    approximate: GeluApproximation = "none",
    *,
    out: FloatArray | None = None,
) -> Result:
    r"""Derivative of GELU, element-wise, for the exact form or the tanh approximation.

    .. math:: \operatorname{GELU}'(x) = \Phi(x) + x\,\varphi(x)

    with the standard normal density φ, and, with ``approximate="tanh"`` and
    :math:`v = 2\sqrt{2/\pi}\,(x + 0.044715\,x^3)`,

    .. math::
        \operatorname{GELU}_{\tanh}'(x) = \sigma(v)\left(1 + x\,\sigma(-v)\,
        2\sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^{2})\right)

    Parameters
    ----------
    x : array_like
        Input; see the module docstring for the accepted dtypes.
    approximate : {"none", "tanh"}, default "none"
        Which form to differentiate.
    out : ndarray, optional
        Array with the result's shape and dtype to write into.

    Returns
    -------
    ndarray or numpy scalar
        GELU'(x); it is negative for x < -0.7518 (tanh form: -0.7525) and exceeds 1 for
        x > 0 until it approaches 1 from above.

    Raises
    ------
    ValueError
        If `approximate` is neither "none" nor "tanh".

    See Also
    --------
    gelu : The function itself.

    Notes
    -----
    Near the zero of GELU' at x ≈ -0.7518 the two terms cancel, so the error there is
    measured against their magnitude |Φ(x)| + |xφ(x)|, not against the result. For
    x <= -3√2 the float64 kernel writes the derivative as xφ(x)(1 - 1/(x²(1 + w))) with
    the continued fraction tail w of erfcx, so nothing cancels. Measured on the points of
    tests/test_actlib_accuracy.py, the error is at most 4 ULP in float64 and 1 ULP in
    float16 and float32 (against the cancelling terms near the zero).

    References
    ----------
    D. Hendrycks and K. Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415,
    2016.

    Examples
    --------
    >>> import numpy as np
    >>> import actlib
    >>> actlib.gelu_grad(np.array([-1.0, 0.0, 1.0]))
    array([-0.08331547,  0.5       ,  1.08331547])
    """
    kernel = _gelu_kernel(_GELU_GRAD, approximate, "gelu_grad")
    return evaluate(kernel, x, out, function="gelu_grad")

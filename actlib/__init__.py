"""Numerically exact activation functions, their derivatives and their metadata.

Every function takes an array_like ``x`` and returns an array of the same shape (a NumPy
scalar for 0-d input). float16, float32 and float64 keep their dtype. Booleans and
integers are promoted as by NumPy ufuncs such as ``np.tanh``, and complex, object and
string input raise TypeError. `REGISTRY` holds one `Activation` per function with its formulas,
parameters, properties, ONNX operator and reference.

Examples
--------
>>> import numpy as np
>>> import actlib
>>> actlib.sigmoid(np.array([0.0, 2.0], dtype=np.float32))
array([0.5      , 0.8807971], dtype=float32)
>>> sorted(actlib.REGISTRY)[:3]
['elu', 'gelu', 'gelu_tanh']
"""

from __future__ import annotations

from actlib._display import Formula, MarkdownTable
from actlib._functions import (
    elu,
    elu_grad,
    gelu,
    gelu_grad,
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    selu,
    selu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from actlib._kernels import SELU_ALPHA, SELU_SCALE
from actlib._metadata import (
    Activation,
    FrameworkDefault,
    OnnxAttribute,
    OnnxOperator,
    OutputRange,
    Parameter,
    Properties,
    Reference,
)
from actlib._prelu import prelu, prelu_grad
from actlib._registry import (
    GELU_MINIMUM,
    GELU_TANH_MINIMUM,
    REGISTRY,
    comparison_table,
    get,
)

__all__ = [
    "GELU_MINIMUM",
    "GELU_TANH_MINIMUM",
    "REGISTRY",
    "SELU_ALPHA",
    "SELU_SCALE",
    "Activation",
    "Formula",
    "FrameworkDefault",
    "MarkdownTable",
    "OnnxAttribute",
    "OnnxOperator",
    "OutputRange",
    "Parameter",
    "Properties",
    "Reference",
    "comparison_table",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "get",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
]

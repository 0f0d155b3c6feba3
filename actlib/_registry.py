"""The registry: one `Activation` entry per supported function, keyed by name.

Notes, tables and tests read formulas, defaults and properties from here; nothing on the
site restates them by hand. Properties describe the default parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np

from actlib import _display
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
    Cost,
    FrameworkDefault,
    Language,
    OnnxAttribute,
    OnnxOperator,
    OutputRange,
    Parameter,
    Properties,
    Reference,
    Smoothness,
)
from actlib._prelu import prelu, prelu_grad

__all__ = ["GELU_MINIMUM", "GELU_TANH_MINIMUM", "REGISTRY", "comparison_table", "get"]

# Minima of x·Φ(x) (at x ≈ -0.75179) and of the tanh form (at x ≈ -0.75246), found with
# mpmath.findroot on the derivative at 200 bits. tests/test_actlib_registry.py repeats it.
GELU_MINIMUM = -0.16997120747990366
GELU_TANH_MINIMUM = -0.17004075057125405

# Cost classes come from bench/bench_activations.py (bench/RESULTS.md, run of 2026-12-04 21:59
# UTC, numpy 2.4.6, 2 cores of an AVX-512 AMD EPYC): the float32 time at 1e6 elements of the
# fastest formulation within 4 ULP, divided by ReLU's, gives 低 up to 2x, 中 up to 8x and 高
# above. tanh is 低 because numpy's vectorised float32 tanh is as fast as ReLU on that machine.
# PReLU measured 1.8x to 2.2x ReLU over four runs and 2.1x in the recorded one, so it is 中;
# Leaky ReLU (1.4x) is 低. The difference is NumPy broadcasting the per-channel slope.

_UNBOUNDED = OutputRange(-np.inf, np.inf, lower_closed=False, upper_closed=False)
_HENDRYCKS = Reference(
    authors=("Dan Hendrycks", "Kevin Gimpel"),
    title="Gaussian Error Linear Units (GELUs)",
    year=2016,
    venue="arXiv:1606.08415",
    url="https://arxiv.org/abs/1606.08415",
)


def _properties(
    *,
    monotonic: bool,
    zero_centred: bool,
    smoothness: Smoothness,
    bounded: tuple[bool, bool],
    saturates: tuple[bool, bool],
    cost: Cost,
) -> Properties:
    """Build `Properties`; `bounded` and `saturates` are (negative side, positive side)."""
    return Properties(
        monotonic=monotonic,
        zero_centred=zero_centred,
        smoothness=smoothness,
        bounded_below=bounded[0],
        bounded_above=bounded[1],
        saturates_negative=saturates[0],
        saturates_positive=saturates[1],
        cost=cost,
    )


def _gelu_parameter(default: str) -> Parameter:
    return Parameter(
        name="approximate",
        symbol=r"\text{approximate}",
        default=default,
        description='"none" 为精确的 erf 形式，"tanh" 为 tanh 近似',
        description_en='"none" selects the exact erf form, "tanh" the tanh approximation',
        framework_defaults=(
            FrameworkDefault("PyTorch", "torch.nn.GELU", "approximate", "none"),
            FrameworkDefault("ONNX", "Gelu", "approximate", "none"),
            FrameworkDefault("TensorFlow", "tf.nn.gelu", "approximate", False),
            FrameworkDefault("Keras 3", "keras.activations.gelu", "approximate", False),
            FrameworkDefault("Keras 3", "keras.ops.gelu", "approximate", True),
            FrameworkDefault("JAX", "jax.nn.gelu", "approximate", True),
        ),
    )


_GELU_ONNX_NOTE = "opset 20 之前没有 Gelu，导出器会把它拆成 Erf（或 Tanh）与乘加等基本算子"
_GELU_ONNX_NOTE_EN = (
    "before opset 20 there is no Gelu; exporters decompose it into Erf (or Tanh) and "
    "elementary arithmetic"
)


def _sigmoid() -> Activation:
    return Activation(
        name="sigmoid",
        short_name="Sigmoid",
        display_name="Sigmoid（逻辑斯谛函数）",
        display_name_en="Sigmoid (logistic function)",
        function=sigmoid,
        derivative=sigmoid_grad,
        latex=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
        latex_derivative=r"\sigma'(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)",
        notation="",
        notation_en="",
        parameters=(),
        output_range=OutputRange(0.0, 1.0, lower_closed=False, upper_closed=False),
        properties=_properties(
            monotonic=True,
            zero_centred=False,
            smoothness="C∞",
            bounded=(True, True),
            saturates=(True, True),
            cost="中",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator("Sigmoid", (1, 6, 13)),
        reference=Reference(
            authors=("David E. Rumelhart", "Geoffrey E. Hinton", "Ronald J. Williams"),
            title="Learning representations by back-propagating errors",
            year=1986,
            venue="Nature 323",
            url="https://doi.org/10.1038/323533a0",
        ),
    )


def _tanh() -> Activation:
    return Activation(
        name="tanh",
        short_name="Tanh",
        display_name="Tanh（双曲正切）",
        display_name_en="Tanh (hyperbolic tangent)",
        function=tanh,
        derivative=tanh_grad,
        latex=r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
        latex_derivative=r"\tanh'(x) = 1 - \tanh^{2}(x)",
        notation="",
        notation_en="",
        parameters=(),
        output_range=OutputRange(-1.0, 1.0, lower_closed=False, upper_closed=False),
        properties=_properties(
            monotonic=True,
            zero_centred=True,
            smoothness="C∞",
            bounded=(True, True),
            saturates=(True, True),
            cost="低",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator("Tanh", (1, 6, 13)),
        reference=Reference(
            authors=("Yann LeCun", "Léon Bottou", "Genevieve B. Orr", "Klaus-Robert Müller"),
            title="Efficient BackProp",
            year=1998,
            venue="Neural Networks: Tricks of the Trade, Springer",
            url="https://doi.org/10.1007/3-540-49430-8_2",
        ),
    )


def _relu() -> Activation:
    return Activation(
        name="relu",
        short_name="ReLU",
        display_name="ReLU（修正线性单元）",
        display_name_en="ReLU (rectified linear unit)",
        function=relu,
        derivative=relu_grad,
        latex=r"\operatorname{ReLU}(x) = \max(x, 0)",
        latex_derivative=(
            r"\operatorname{ReLU}'(x) = \begin{cases} 1, & x > 0 \\ 0, & x \le 0 \end{cases}"
        ),
        notation="",
        notation_en="",
        parameters=(),
        output_range=OutputRange(0.0, np.inf, lower_closed=True, upper_closed=False),
        properties=_properties(
            monotonic=True,
            zero_centred=False,
            smoothness="C0",
            bounded=(True, False),
            saturates=(True, False),
            cost="低",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator("Relu", (1, 6, 13, 14)),
        reference=Reference(
            authors=("Vinod Nair", "Geoffrey E. Hinton"),
            title="Rectified Linear Units Improve Restricted Boltzmann Machines",
            year=2010,
            venue="ICML",
        ),
    )


def _leaky_relu() -> Activation:
    return Activation(
        name="leaky_relu",
        short_name="LeakyReLU",
        display_name="LeakyReLU（带泄漏修正线性单元）",
        display_name_en="LeakyReLU (leaky rectified linear unit)",
        function=leaky_relu,
        derivative=leaky_relu_grad,
        latex=(
            r"\operatorname{LeakyReLU}(x) = "
            r"\begin{cases} x, & x > 0 \\ \alpha x, & x \le 0 \end{cases}"
        ),
        latex_derivative=(
            r"\operatorname{LeakyReLU}'(x) = "
            r"\begin{cases} 1, & x > 0 \\ \alpha, & x \le 0 \end{cases}"
        ),
        notation="",
        notation_en="",
        parameters=(
            Parameter(
                name="negative_slope",
                symbol=r"\alpha",
                default=0.01,
                description="x ≤ 0 一侧的斜率",
                description_en="slope for x ≤ 0",
                framework_defaults=(
                    FrameworkDefault("PyTorch", "torch.nn.LeakyReLU", "negative_slope", 0.01),
                    FrameworkDefault("ONNX", "LeakyRelu", "alpha", 0.01),
                    FrameworkDefault("TensorFlow", "tf.nn.leaky_relu", "alpha", 0.2),
                    FrameworkDefault(
                        "Keras 3", "keras.activations.leaky_relu", "negative_slope", 0.2
                    ),
                    FrameworkDefault("Keras 3", "keras.layers.LeakyReLU", "negative_slope", 0.3),
                ),
            ),
        ),
        output_range=_UNBOUNDED,
        properties=_properties(
            monotonic=True,
            zero_centred=False,
            smoothness="C0",
            bounded=(False, False),
            saturates=(False, False),
            cost="低",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator(
            "LeakyRelu",
            (1, 6, 16),
            attributes=(OnnxAttribute("alpha", "float", 0.01),),
            note="alpha 以 float32 存储，0.01 在模型中是 0.009999999776…",
            note_en="alpha is stored as float32, so 0.01 becomes 0.009999999776…",
        ),
        reference=Reference(
            authors=("Andrew L. Maas", "Awni Y. Hannun", "Andrew Y. Ng"),
            title="Rectifier Nonlinearities Improve Neural Network Acoustic Models",
            year=2013,
            venue="ICML Workshop on Deep Learning for Audio, Speech and Language Processing",
        ),
    )


def _prelu() -> Activation:
    return Activation(
        name="prelu",
        short_name="PReLU",
        display_name="PReLU（参数化修正线性单元）",
        display_name_en="PReLU (parametric rectified linear unit)",
        function=prelu,
        derivative=prelu_grad,
        latex=(
            r"\operatorname{PReLU}(x) = "
            r"\begin{cases} x, & x > 0 \\ a_c\,x, & x \le 0 \end{cases}"
        ),
        latex_derivative=(
            r"\operatorname{PReLU}'(x) = "
            r"\begin{cases} 1, & x > 0 \\ a_c, & x \le 0 \end{cases}"
        ),
        notation="其中 $a_c$ 是 $x$ 所在通道 $c$ 的斜率，通道轴默认为第 1 维（与 PyTorch 相同）。",
        notation_en=(
            "where $a_c$ is the slope of the channel $c$ that contains $x$. The channel "
            "axis defaults to axis 1, as in PyTorch."
        ),
        parameters=(
            Parameter(
                name="slope",
                symbol="a_c",
                default=None,
                description="标量或逐通道的斜率（训练得到）",
                description_en="a scalar or per-channel slope, learned in training",
                framework_defaults=(
                    FrameworkDefault("PyTorch", "torch.nn.PReLU", "init", 0.25),
                    FrameworkDefault("Keras 3", "keras.layers.PReLU", "alpha_initializer", "Zeros"),
                    FrameworkDefault("ONNX", "PRelu", "slope", None),
                ),
            ),
        ),
        output_range=_UNBOUNDED,
        properties=_properties(
            monotonic=True,
            zero_centred=False,
            smoothness="C0",
            bounded=(False, False),
            saturates=(False, False),
            cost="中",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator(
            "PRelu",
            (1, 6, 7, 9, 16),
            note=(
                "slope 是输入张量，按 NumPy 规则与 X 的尾部维度对齐广播：NCHW 输入需要形状为 "
                "(C, 1, 1) 的 slope，形状为 (C,) 的 slope 会沿 W 轴广播"
            ),
            note_en=(
                "slope is an input broadcast against the trailing axes of X (NumPy rules): "
                "an NCHW input needs a slope of shape (C, 1, 1); a slope of shape (C,) "
                "would broadcast along W"
            ),
        ),
        reference=Reference(
            authors=("Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"),
            title=(
                "Delving Deep into Rectifiers: Surpassing Human-Level Performance on "
                "ImageNet Classification"
            ),
            year=2015,
            venue="ICCV",
            url="https://arxiv.org/abs/1502.01852",
        ),
    )


def _elu() -> Activation:
    return Activation(
        name="elu",
        short_name="ELU",
        display_name="ELU（指数线性单元）",
        display_name_en="ELU (exponential linear unit)",
        function=elu,
        derivative=elu_grad,
        latex=(
            r"\operatorname{ELU}(x) = "
            r"\begin{cases} x, & x > 0 \\ \alpha\,(e^{x} - 1), & x \le 0 \end{cases}"
        ),
        latex_derivative=(
            r"\operatorname{ELU}'(x) = "
            r"\begin{cases} 1, & x > 0 \\ \alpha\,e^{x}, & x \le 0 \end{cases}"
        ),
        notation="",
        notation_en="",
        parameters=(
            Parameter(
                name="alpha",
                symbol=r"\alpha",
                default=1.0,
                description="负半轴的缩放系数，决定下界 $-\\alpha$",
                description_en=(
                    "scale of the negative branch, which sets the lower bound $-\\alpha$"
                ),
                framework_defaults=(
                    FrameworkDefault("PyTorch", "torch.nn.ELU", "alpha", 1.0),
                    FrameworkDefault("ONNX", "Elu", "alpha", 1.0),
                    FrameworkDefault("Keras 3", "keras.activations.elu", "alpha", 1.0),
                ),
            ),
        ),
        output_range=OutputRange(
            -1.0, np.inf, lower_closed=False, upper_closed=False, lower_latex=r"-\alpha"
        ),
        properties=_properties(
            monotonic=True,
            zero_centred=False,
            smoothness="C1",
            bounded=(True, False),
            saturates=(True, False),
            cost="中",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator(
            "Elu",
            (1, 6, 22),
            attributes=(OnnxAttribute("alpha", "float", 1.0),),
        ),
        reference=Reference(
            authors=("Djork-Arné Clevert", "Thomas Unterthiner", "Sepp Hochreiter"),
            title="Fast and Accurate Deep Network Learning by Exponential Linear Units (ELUs)",
            year=2016,
            venue="ICLR",
            url="https://arxiv.org/abs/1511.07289",
        ),
    )


def _selu() -> Activation:
    onnx_alpha = float(np.float32(SELU_ALPHA))
    onnx_gamma = float(np.float32(SELU_SCALE))
    return Activation(
        name="selu",
        short_name="SELU",
        display_name="SELU（缩放指数线性单元）",
        display_name_en="SELU (scaled exponential linear unit)",
        function=selu,
        derivative=selu_grad,
        latex=(
            r"\operatorname{SELU}(x) = \lambda "
            r"\begin{cases} x, & x > 0 \\ \alpha\,(e^{x} - 1), & x \le 0 \end{cases}"
        ),
        latex_derivative=(
            r"\operatorname{SELU}'(x) = \lambda "
            r"\begin{cases} 1, & x > 0 \\ \alpha\,e^{x}, & x \le 0 \end{cases}"
        ),
        notation=(
            f"其中 $\\alpha = {SELU_ALPHA!r}$，$\\lambda = {SELU_SCALE!r}$，"
            "是 Klambauer 等人给出的闭式常数取 float64 的结果。"
        ),
        notation_en=(
            f"where $\\alpha = {SELU_ALPHA!r}$ and $\\lambda = {SELU_SCALE!r}$ are the "
            "closed-form constants of Klambauer et al., rounded to float64."
        ),
        parameters=(),
        output_range=OutputRange(
            -SELU_SCALE * SELU_ALPHA,
            np.inf,
            lower_closed=False,
            upper_closed=False,
            lower_latex=r"-\lambda\alpha",
        ),
        properties=_properties(
            monotonic=True,
            zero_centred=True,
            smoothness="C0",
            bounded=(True, False),
            saturates=(True, False),
            cost="中",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator(
            "Selu",
            (1, 6, 22),
            attributes=(
                OnnxAttribute("alpha", "float", onnx_alpha),
                OnnxAttribute("gamma", "float", onnx_gamma),
            ),
            note=f"默认属性是 float32 常数 {onnx_alpha!r} 与 {onnx_gamma!r}",
            note_en=(
                "the default attributes are the float32 constants "
                f"{onnx_alpha!r} and {onnx_gamma!r}"
            ),
        ),
        reference=Reference(
            authors=(
                "Günter Klambauer",
                "Thomas Unterthiner",
                "Andreas Mayr",
                "Sepp Hochreiter",
            ),
            title="Self-Normalizing Neural Networks",
            year=2017,
            venue="NeurIPS",
            url="https://arxiv.org/abs/1706.02515",
        ),
    )


def _gelu() -> Activation:
    return Activation(
        name="gelu",
        short_name="GELU",
        display_name="GELU（高斯误差线性单元）",
        display_name_en="GELU (Gaussian error linear unit)",
        function=gelu,
        derivative=gelu_grad,
        latex=(
            r"\operatorname{GELU}(x) = x\,\Phi(x) = "
            r"\frac{x}{2}\left(1 + \operatorname{erf}\frac{x}{\sqrt{2}}\right)"
        ),
        latex_derivative=r"\operatorname{GELU}'(x) = \Phi(x) + x\,\varphi(x)",
        notation="其中 $\\Phi$ 是标准正态分布的累积分布函数，$\\varphi$ 是其概率密度函数。",
        notation_en=(
            "where $\\Phi$ is the cumulative distribution function of the standard normal "
            "distribution and $\\varphi$ its density."
        ),
        parameters=(_gelu_parameter("none"),),
        output_range=OutputRange(GELU_MINIMUM, np.inf, lower_closed=True, upper_closed=False),
        properties=_properties(
            monotonic=False,
            zero_centred=False,
            smoothness="C∞",
            bounded=(True, False),
            saturates=(True, False),
            cost="高",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator(
            "Gelu",
            (20,),
            attributes=(OnnxAttribute("approximate", "string", "none"),),
            note=_GELU_ONNX_NOTE,
            note_en=_GELU_ONNX_NOTE_EN,
        ),
        reference=_HENDRYCKS,
    )


def _gelu_tanh() -> Activation:
    return Activation(
        name="gelu_tanh",
        short_name="GELU (tanh)",
        display_name="GELU（tanh 近似）",
        display_name_en="GELU (tanh approximation)",
        function=functools.partial(gelu, approximate="tanh"),
        derivative=functools.partial(gelu_grad, approximate="tanh"),
        latex=(
            r"\operatorname{GELU}_{\tanh}(x) = "
            r"\frac{x}{2}\left(1 + \tanh u\right)"
        ),
        latex_derivative=(
            r"\operatorname{GELU}_{\tanh}'(x) = \frac{1}{2}\left(1 + \tanh u\right) + "
            r"\frac{x}{2}\left(1 - \tanh^{2} u\right)\sqrt{2/\pi}\,"
            r"\left(1 + 0.134145\,x^{2}\right)"
        ),
        notation="其中 $u = \\sqrt{2/\\pi}\\,\\left(x + 0.044715\\,x^{3}\\right)$。",
        notation_en="where $u = \\sqrt{2/\\pi}\\,\\left(x + 0.044715\\,x^{3}\\right)$.",
        parameters=(_gelu_parameter("tanh"),),
        output_range=OutputRange(GELU_TANH_MINIMUM, np.inf, lower_closed=True, upper_closed=False),
        properties=_properties(
            monotonic=False,
            zero_centred=False,
            smoothness="C∞",
            bounded=(True, False),
            saturates=(True, False),
            cost="高",  # from bench/RESULTS.md; the rule is above _UNBOUNDED
        ),
        onnx=OnnxOperator(
            "Gelu",
            (20,),
            attributes=(OnnxAttribute("approximate", "string", "none"),),
            settings=(("approximate", "tanh"),),
            note=_GELU_ONNX_NOTE,
            note_en=_GELU_ONNX_NOTE_EN,
        ),
        reference=_HENDRYCKS,
    )


def _build() -> Mapping[str, Activation]:
    entries = (
        _sigmoid(),
        _tanh(),
        _relu(),
        _leaky_relu(),
        _prelu(),
        _elu(),
        _selu(),
        _gelu(),
        _gelu_tanh(),
    )
    return MappingProxyType({entry.name: entry for entry in entries})


REGISTRY: Mapping[str, Activation] = _build()
"""Every activation in actlib, keyed by name, in the order the site presents them."""


def get(name: str) -> Activation:
    """Return the registry entry called `name`.

    Raises
    ------
    ValueError
        If there is no such entry; the message lists the valid names.

    Examples
    --------
    >>> import actlib
    >>> actlib.get("relu").short_name
    'ReLU'
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        valid = ", ".join(REGISTRY)
        raise ValueError(f"Unknown activation {name!r}; choose one of {valid}.") from None


def comparison_table(
    names: Iterable[str] | None = None, *, lang: Language = "zh"
) -> _display.MarkdownTable:
    """Return a Markdown table that compares activations, one row each.

    Parameters
    ----------
    names : iterable of str, optional
        Registry names in display order; all entries by default.
    lang : {"zh", "en"}, default "zh"
        Language of the labels.
    """
    selected = REGISTRY.values() if names is None else [get(name) for name in names]
    return _display.comparison_table(selected, lang)

"""2-D convolution on NCHW float32 arrays: a plan built once from the weights, and conv2d."""
from __future__ import annotations

import numpy as np

from . import _C
from ._checks import activation as _activation
from ._checks import as_float32, check_conv_layer, pads4, pair

__all__ = ["ConvPlan", "conv2d", "conv_output_shape"]


def conv_output_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1) -> tuple[int, int, int, int]:
    """(N, K, OH, OW) of a convolution, or ValueError if the kernel does not fit the padded input."""
    n, _, h, w = input_shape
    k, _, kh, kw = weight_shape
    (sh, sw), (dh, dw) = pair(stride, "stride"), pair(dilation, "dilation")
    pt, pl, pb, pr = pads4(padding)
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if h + pt + pb < eh or w + pl + pr < ew:
        raise ValueError(f"the dilated kernel ({eh}x{ew}) is larger than the padded input "
                         f"({h + pt + pb}x{w + pl + pr}: input {h}x{w}, padding {(pt, pl, pb, pr)})")
    return n, k, (h + pt + pb - eh) // sh + 1, (w + pl + pr - ew) // sw + 1


class ConvPlan:
    """A convolution layer ready to run: weights packed once, algorithm chosen per input size.

    weight: (K, C/groups, kh, kw); bias: (K,) or None. stride/dilation: int or pair;
    padding: int, (h, w) or (top, left, bottom, right). activation: None, "relu", "relu6",
    ("leaky_relu", a), ("clip", lo, hi), "sigmoid", "tanh", "silu", "hard_swish", ...
    algo: "auto" or one of "im2col", "pointwise", "depthwise" (see `algorithms`).
    Calling the plan on x (N, C, H, W) returns activation(conv(x) + bias + residual).
    Thread-safe: one plan may run from several Python threads at once.
    """

    def __init__(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None,
                 algo: str = "auto"):
        weight = as_float32(weight, "weight", ndim=4)
        if bias is not None:
            bias = as_float32(bias, "bias", ndim=1)
        check_conv_layer(weight.shape, groups, None if bias is None else bias.shape)
        self.weight, self.bias, self.groups = weight, bias, groups
        self.stride, self.dilation, self.padding = pair(stride, "stride"), pair(dilation, "dilation"), pads4(padding)
        self.activation = _activation(activation)
        self.in_channels = weight.shape[1] * groups
        self._plan = _C.ConvPlan(weight, bias, self.in_channels, self.stride, self.dilation, self.padding, groups,
                                 *self.activation, algo)
        self.algo_preference = algo
        self._last_hw = None

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    @property
    def algo(self) -> str | None:
        """The algorithm used for the last input size run (None before the first run)."""
        return None if self._last_hw is None else self._plan.algo_for(*self._last_hw)

    def algo_for(self, height: int, width: int) -> str:
        """The algorithm this plan runs for an input of height x width (packs weights if needed)."""
        return self._plan.algo_for(height, width)

    def output_shape(self, input_shape) -> tuple[int, int, int, int]:
        return conv_output_shape(input_shape, self.weight.shape, self.stride, self.padding, self.dilation)

    def _check_input(self, x):
        x = as_float32(x, "x", ndim=4)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x has {x.shape[1]} channels (shape {x.shape}); the weight {self.weight.shape} with "
                             f"groups={self.groups} expects {self.in_channels}")
        return x

    def __call__(self, x, residual=None, out=None) -> np.ndarray:
        x = self._check_input(x)
        shape = self.output_shape(x.shape)
        if residual is not None:
            residual = as_float32(residual, "residual", ndim=4)
            if residual.shape != shape:
                raise ValueError(f"residual has shape {residual.shape}, the output has shape {shape}")
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        self._plan.run(x, out, residual)
        self._last_hw = x.shape[2:]
        return out

    def __repr__(self):
        return (f"ConvPlan(weight={self.weight.shape}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, groups={self.groups}, activation={self.activation[0]!r}, "
                f"algo={self.algo_preference!r})")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None, residual=None,
           algo: str = "auto", out=None) -> np.ndarray:
    """2-D convolution, NCHW float32: activation(conv(x, weight) + bias + residual).

    Builds a ConvPlan per call; build one yourself to run a layer many times.
    """
    x = as_float32(x, "x", ndim=4)
    weight = as_float32(weight, "weight", ndim=4)
    if isinstance(groups, int) and groups >= 1 and x.shape[1] != weight.shape[1] * groups:
        raise ValueError(f"x has {x.shape[1]} channels (shape {x.shape}) but weight {weight.shape} with "
                         f"groups={groups} expects {weight.shape[1] * groups}")
    plan = ConvPlan(weight, bias, stride, padding, dilation, groups, activation, algo)
    return plan(x, residual=residual, out=out)

"""2-D max/average pooling and global pooling on NCHW float32 arrays."""
from __future__ import annotations

import numpy as np

from . import _C, _memory
from ._device import dispatched
from ._checks import as_float32, pads4, pair

__all__ = ["max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d", "pool2d_output_shape"]


def _window(kernel_size, stride, padding, dilation):
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None else pair(stride, "stride")
    d = pair(dilation, "dilation")
    p = pads4(padding)
    eh, ew = d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1
    if max(p[0], p[2]) >= eh or max(p[1], p[3]) >= ew:
        raise ValueError(f"padding {p} must be smaller than the pooling window {eh}x{ew} "
                         f"(kernel_size={k}, dilation={d})")
    return k, s, d, p


def pool2d_output_shape(input_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(N, C, OH, OW) of a pooling layer, or ValueError if the window is larger than the padded input."""
    if len(input_shape) != 4:
        raise ValueError(f"pooling input must be 4-D (N, C, H, W), got shape {tuple(input_shape)}")
    k, s, d, p = _window(kernel_size, stride, padding, dilation)
    n, c, h, w = input_shape
    eh, ew = d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1
    if h + p[0] + p[2] < eh or w + p[1] + p[3] < ew:
        raise ValueError(f"the pooling window {eh}x{ew} is larger than the padded input "
                         f"{h + p[0] + p[2]}x{w + p[1] + p[3]} (input {h}x{w}, padding {p})")
    oh, ow = _C.pool_output_hw(h, w, k, s, d, p, bool(ceil_mode))
    return n, c, oh, ow


def _pool(kind, x, kernel_size, stride, padding, dilation, ceil_mode, count_include_pad, out):
    x = as_float32(x, "x", ndim=4)
    k, s, d, p = _window(kernel_size, stride, padding, dilation)
    shape = pool2d_output_shape(x.shape, k, s, p, d, ceil_mode)
    if out is None:
        out = _memory.empty(shape)
    _C.pool2d(x, out, kind, k, s, d, p, bool(ceil_mode), bool(count_include_pad))
    return out


@dispatched("max_pool2d")
def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, *, out=None) -> np.ndarray:
    """Max pooling of x (N, C, H, W). stride None = kernel_size; padding: int, (h, w) or
    (top, left, bottom, right), padded taps never win; ceil_mode as in ONNX/PyTorch."""
    return _pool("max", x, kernel_size, stride, padding, dilation, ceil_mode, False, out)


@dispatched("avg_pool2d")
def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=False, *,
               out=None) -> np.ndarray:
    """Average pooling of x (N, C, H, W); the divisor counts padded taps only with count_include_pad
    (never the part of a ceil_mode window beyond the padding)."""
    return _pool("avg", x, kernel_size, stride, padding, 1, ceil_mode, count_include_pad, out)


def _global(kind, x, out):
    x = as_float32(x, "x")
    if x.ndim < 3:
        raise ValueError(f"x must be (N, C, H, W) or another (N, C, spatial...) shape, got shape {x.shape}")
    shape = x.shape[:2] + (1,) * (x.ndim - 2)
    if min(x.shape[2:]) == 0:
        raise ValueError(f"global pooling needs a non-empty spatial extent, got shape {x.shape}")
    if out is None:
        out = _memory.empty(shape)
    _C.global_pool(x, out, kind)
    return out


@dispatched("global_avg_pool2d")
def global_avg_pool2d(x, *, out=None) -> np.ndarray:
    """Mean over the spatial axes: (N, C, H, W) -> (N, C, 1, 1)."""
    return _global("avg", x, out)


@dispatched("global_max_pool2d")
def global_max_pool2d(x, *, out=None) -> np.ndarray:
    """Maximum over the spatial axes: (N, C, H, W) -> (N, C, 1, 1)."""
    return _global("max", x, out)

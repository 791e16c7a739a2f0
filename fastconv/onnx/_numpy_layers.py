"""numpy versions of fastconv's layer functions (see _layers.py): same signatures, ONNX semantics, any dtype.

They run what the engine's float32 kernels do not: other dtypes and dilated average pooling. Plain,
obviously-correct formulations (a loop over kernel offsets, one numpy expression per activation).
"""
from __future__ import annotations

import math

import numpy as np


def _pads(padding):
    if isinstance(padding, int):
        return (padding,) * 4
    p = tuple(padding)
    return (p[0], p[1], p[0], p[1]) if len(p) == 2 else p


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _pool_geometry(h, k, s, d, p0, p1, ceil_mode):
    ek = d * (k - 1) + 1
    span = h + p0 + p1 - ek
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= h + p0:  # the last window must start inside the input or left padding
        out -= 1
    return out, max(0, (out - 1) * s + ek - (h + p0 + p1))


def _windows(x, kernel, stride, pads, dilation, ceil_mode, fill):
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    pt, pl, pb, pr = pads
    n, c, h, w = x.shape
    oh, eh = _pool_geometry(h, kh, sh, dh, pt, pb, ceil_mode)
    ow, ew = _pool_geometry(w, kw, sw, dw, pl, pr, ceil_mode)
    xp = np.full((n, c, h + pt + pb + eh, w + pl + pr + ew), fill, dtype=x.dtype)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    for r in range(kh):
        for q in range(kw):
            yield xp[:, :, r * dh:r * dh + sh * (oh - 1) + 1:sh, q * dw:q * dw + sw * (ow - 1) + 1:sw]


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    out = None
    for win in _windows(x, kernel, stride, _pads(padding), _pair(dilation), ceil_mode, -np.inf):
        out = win.copy() if out is None else np.maximum(out, win, out=out)
    return out


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=False, dilation=1):
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    pads = _pads(padding)
    dil = _pair(dilation)
    total = None
    for win in _windows(x, kernel, stride, pads, dil, ceil_mode, 0.0):
        total = win.astype(np.float64) if total is None else total + win
    # The divisor counts the input elements under each window, plus the padding when
    # count_include_pad; the extra cells that ceil_mode adds never count.
    pt, pl, pb, pr = pads
    h, w = x.shape[2:]
    _, eh = _pool_geometry(h, kernel[0], stride[0], dil[0], pt, pb, ceil_mode)
    _, ew = _pool_geometry(w, kernel[1], stride[1], dil[1], pl, pr, ceil_mode)
    mask = np.zeros((1, 1, h + pt + pb + eh, w + pl + pr + ew))
    if count_include_pad:
        mask[..., :h + pt + pb, :w + pl + pr] = 1
    else:
        mask[..., pt:pt + h, pl:pl + w] = 1
    count = sum(_windows(mask, kernel, stride, (0, 0, 0, 0), dil, False, 0.0))
    return (total / count).astype(x.dtype)


def global_avg_pool2d(x):
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True, dtype=np.float64).astype(x.dtype)


def global_max_pool2d(x):
    return x.max(axis=tuple(range(2, x.ndim)), keepdims=True)


def _chan(v, ndim):
    return np.asarray(v, np.float64).reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(x, scale, bias, mean, var, eps=1e-5, activation=None):
    inv = _chan(scale, x.ndim) / np.sqrt(_chan(var, x.ndim) + eps)
    y = (x - _chan(mean, x.ndim)) * inv + _chan(bias, x.ndim)
    return globals()["activation"](y.astype(x.dtype), *( (activation,) if isinstance(activation, str) else
                                                         (activation or (None,)) ))


def activation(x, kind, *params):
    if kind is None or kind == "none":
        return x
    x64 = np.asarray(x, np.float64)
    p = list(params)
    if kind == "relu":
        y = np.maximum(x64, 0)
    elif kind == "relu6":
        y = np.clip(x64, 0, 6)
    elif kind == "clip":
        y = np.clip(x64, p[0] if p else -np.inf, p[1] if len(p) > 1 else np.inf)
    elif kind == "leaky_relu":
        y = np.where(x64 >= 0, x64, (p[0] if p else 0.01) * x64)
    elif kind == "sigmoid":
        y = 0.5 * (1 + np.tanh(0.5 * x64))
    elif kind == "tanh":
        y = np.tanh(x64)
    elif kind == "silu":
        y = x64 * 0.5 * (1 + np.tanh(0.5 * x64))
    elif kind == "hard_sigmoid":
        y = np.clip((p[0] if p else 0.2) * x64 + (p[1] if len(p) > 1 else 0.5), 0, 1)
    elif kind == "hard_swish":
        y = x64 * np.clip(x64 / 6 + 0.5, 0, 1)
    elif kind == "elu":
        y = np.where(x64 >= 0, x64, (p[0] if p else 1.0) * np.expm1(np.minimum(x64, 0)))
    elif kind == "softplus":
        y = np.logaddexp(0, x64)
    else:
        raise ValueError(f"unknown activation {kind!r}")
    return y.astype(x.dtype)


def prelu(x, slope):
    return np.where(x >= 0, x, x * slope).astype(x.dtype)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


def log_softmax(x, axis=-1):
    z = x - x.max(axis=axis, keepdims=True)
    return (z - np.log(np.exp(z).sum(axis=axis, keepdims=True))).astype(x.dtype)


def lrn(x, size, alpha=1e-4, beta=0.75, bias=1.0):
    c = x.shape[1]
    sq = np.square(x.astype(np.float64))
    lo, hi = (size - 1) // 2, int(math.ceil((size - 1) / 2))
    padded = np.pad(sq, [(0, 0), (lo, hi)] + [(0, 0)] * (x.ndim - 2))
    total = sum(padded[:, i:i + c] for i in range(size))
    return (x / (bias + alpha / size * total) ** beta).astype(x.dtype)


def add(a, b, activation=None):
    y = np.add(a, b)
    return y if activation is None else globals()["activation"](y, *((activation,) if isinstance(activation, str)
                                                                      else activation))


def mul(a, b):
    return np.multiply(a, b)


def concat(xs, axis=1):
    return np.concatenate(xs, axis=axis)

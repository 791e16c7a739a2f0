"""Batch norm (inference) and its folding into a convolution, softmax / log-softmax, LRN."""
from __future__ import annotations

import numbers

import numpy as np

from . import _C, _memory
from ._device import dispatched
from ._checks import activation as _activation
from ._checks import as_float32

__all__ = ["batch_norm", "fold_batch_norm", "batch_norm_affine", "softmax", "log_softmax", "lrn"]


def _channel_params(c: int, where: str, **arrays) -> dict:
    out = {}
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.ndim != 1 or a.shape[0] != c:
            raise ValueError(f"{where}: {name} has shape {a.shape}, expected ({c},) for {c} channels")
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(f"{where}: {name} must be a floating-point array, got dtype {a.dtype}")
        out[name] = a.astype(np.float64)
    return out


def batch_norm_affine(scale, bias, mean, var, eps=1e-5):
    """(s, t) float32 with batch_norm(x) = x * s + t per channel, computed in float64."""
    if np.ndim(scale) != 1:
        raise ValueError(f"batch_norm: scale must be 1-D (one value per channel), got shape {np.shape(scale)}")
    c = np.shape(scale)[0]
    p = _channel_params(c, "batch_norm", scale=scale, bias=bias, mean=mean, var=var)
    if np.any(p["var"] + eps <= 0):
        raise ValueError(f"batch_norm: var + eps must be positive, got min(var) = {p['var'].min()} with eps={eps}")
    s = p["scale"] / np.sqrt(p["var"] + eps)
    return s.astype(np.float32), (p["bias"] - p["mean"] * s).astype(np.float32)


@dispatched("batch_norm")
def batch_norm(x, scale, bias, mean, var, eps=1e-5, activation=None, *, out=None) -> np.ndarray:
    """Inference batch norm of x (N, C, ...): activation(scale * (x - mean) / sqrt(var + eps) + bias),
    one pass over memory."""
    x = as_float32(x, "x")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: x must be (N, C, ...), got shape {x.shape}")
    if np.ndim(scale) != 1 or np.shape(scale)[0] != x.shape[1]:
        raise ValueError(f"batch_norm: scale has shape {np.shape(scale)} but x has {x.shape[1]} channels "
                         f"(shape {x.shape})")
    s, t = batch_norm_affine(scale, bias, mean, var, eps)
    if out is None:
        out = _memory.empty(x.shape)
    _C.channel_affine(x, out, s, t, *_activation(activation))
    return out


def fold_batch_norm(weight, bias, scale, beta, mean, var, eps=1e-5):
    """Folds an inference batch norm into the convolution before it: returns (weight', bias') with
    conv(x, weight') + bias' == batch_norm(conv(x, weight) + bias). weight: (K, C/g, kh, kw) or (K, in);
    bias: (K,) or None. Computed in float64, returned as float32."""
    w = np.asarray(weight)
    if w.ndim < 2:
        raise ValueError(f"fold_batch_norm: weight must have the output channels first, got shape {w.shape}")
    k = w.shape[0]
    p = _channel_params(k, "fold_batch_norm", scale=scale, beta=beta, mean=mean, var=var)
    b = np.zeros(k) if bias is None else _channel_params(k, "fold_batch_norm", bias=bias)["bias"]
    s = p["scale"] / np.sqrt(p["var"] + eps)
    w2 = w.astype(np.float64) * s.reshape((k,) + (1,) * (w.ndim - 1))
    return w2.astype(np.float32), ((b - p["mean"]) * s + p["beta"]).astype(np.float32)


def _axis(axis, ndim, shape) -> int:
    if not isinstance(axis, numbers.Integral) or not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis!r} is out of range for x with {ndim} dimensions (shape {shape})")
    return int(axis) % ndim


def _softmax(x, axis, log, out):
    x = as_float32(x, "x")
    if x.ndim == 0:
        raise ValueError("softmax needs at least a 1-D array")
    a = _axis(axis, x.ndim, x.shape)
    if out is None:
        out = _memory.empty(x.shape)
    _C.softmax(x, out, a, log)
    return out


@dispatched("softmax")
def softmax(x, axis=-1, *, out=None) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)) along axis (numerically stable for any finite x)."""
    return _softmax(x, axis, False, out)


@dispatched("log_softmax")
def log_softmax(x, axis=-1, *, out=None) -> np.ndarray:
    """x - max - log(sum(exp(x - max))) along axis."""
    return _softmax(x, axis, True, out)


@dispatched("lrn")
def lrn(x, size, alpha=1e-4, beta=0.75, bias=1.0, *, out=None) -> np.ndarray:
    """Local response normalisation across channels, ONNX semantics (alpha is divided by size):
    y = x / (bias + alpha / size * sum of x^2 over `size` neighbouring channels) ** beta."""
    x = as_float32(x, "x")
    if x.ndim < 3:
        raise ValueError(f"lrn: x must be (N, C, H, W) or (N, C, spatial...), got shape {x.shape}")
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"lrn: size must be a positive int, got {size!r}")
    if not bias > 0:
        raise ValueError(f"lrn: bias must be > 0 (the base of the power must stay positive), got {bias}")
    if out is None:
        out = _memory.empty(x.shape)
    _C.lrn(x, out, int(size), float(alpha), float(beta), float(bias))
    return out

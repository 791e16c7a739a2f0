"""Activations, prelu, element-wise add/mul with channel broadcasting, concat, and linear.

Every op makes one pass over memory with the activation applied in registers. add/mul follow
numpy broadcasting; same-shape operands and per-channel operands ((C, 1, 1), (1, C, 1, 1) or,
for 2-D x, (C,)) take the engine's fast paths, any other broadcast is computed by numpy.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import _C, _memory
from ._device import dispatched
from ._checks import activation as _activation
from ._checks import as_float32

__all__ = ["activation", "relu", "leaky_relu", "prelu", "clip", "sigmoid", "hard_sigmoid", "hard_swish", "tanh",
           "silu", "elu", "softplus", "add", "mul", "concat", "linear", "flatten"]


def _apply(x, spec, out=None) -> np.ndarray:
    x = as_float32(x, "x")
    if out is None:
        out = _memory.empty(x.shape)
    if x.size:
        flat = x.reshape(1, 1, -1)
        _C.channel_affine(flat, out.reshape(1, 1, -1), None, None, *_activation(spec))
    return out


@dispatched("activation")
def activation(x, kind, *params, out=None) -> np.ndarray:
    """activation(x, "relu"), activation(x, "leaky_relu", 0.1), activation(x, "clip", 0, 6),
    activation(x, "prelu", slope), ... Kinds: relu, relu6, clip, leaky_relu, prelu, sigmoid, hard_sigmoid,
    hard_swish, tanh, silu, elu, softplus (None or "none" copies x)."""
    if kind == "prelu":
        if len(params) != 1:
            raise TypeError(f"prelu takes one parameter (slope), got {len(params)}")
        return prelu(x, params[0], out=out)
    return _apply(x, (kind, *params) if params else kind, out)


# The named activations: activation() with the kind filled in (device= as there: CuPy arrays run on the GPU).
def relu(x, *, out=None, device=None): return activation(x, "relu", out=out, device=device)
def leaky_relu(x, alpha=0.01, *, out=None, device=None): return activation(x, "leaky_relu", alpha, out=out, device=device)
def clip(x, min, max, *, out=None, device=None): return activation(x, "clip", min, max, out=out, device=device)  # noqa: A002
def sigmoid(x, *, out=None, device=None): return activation(x, "sigmoid", out=out, device=device)
def hard_sigmoid(x, alpha=0.2, beta=0.5, *, out=None, device=None):
    return activation(x, "hard_sigmoid", alpha, beta, out=out, device=device)
def hard_swish(x, *, out=None, device=None): return activation(x, "hard_swish", out=out, device=device)
def tanh(x, *, out=None, device=None): return activation(x, "tanh", out=out, device=device)
def silu(x, *, out=None, device=None): return activation(x, "silu", out=out, device=device)
def elu(x, alpha=1.0, *, out=None, device=None): return activation(x, "elu", alpha, out=out, device=device)
def softplus(x, *, out=None, device=None): return activation(x, "softplus", out=out, device=device)


def _per_channel(v: np.ndarray, x_shape) -> np.ndarray | None:
    """v as (C,) if it broadcasts against x only along axis 1 (the channels), else None."""
    if len(x_shape) < 2 or v.ndim > len(x_shape):
        return None
    full = (1,) * (len(x_shape) - v.ndim) + v.shape
    c = x_shape[1]
    if full[1] == c and all(d == 1 for i, d in enumerate(full) if i != 1):
        return np.ascontiguousarray(v.reshape(c))
    return None


def prelu(x, slope, *, out=None) -> np.ndarray:
    """x >= 0 ? x : slope * x. slope: a scalar, per channel ((C,) for any rank of x, or (C, 1, 1)), or
    another shape that broadcasts to x numpy-style."""
    x = as_float32(x, "x")
    s = as_float32(slope, "slope")
    if s.size == 1:
        return _apply(x, ("leaky_relu", float(s.reshape(()))), out)
    # A 1-D slope of C values is per channel (as PyTorch), whatever x's rank; others broadcast as numpy.
    per_c = s if s.ndim == 1 and x.ndim >= 2 and s.shape[0] == x.shape[1] else _per_channel(s, x.shape)
    if per_c is not None:
        if out is None:
            out = _memory.empty(x.shape)
        _C.channel_affine(x, out, None, None, "none", 0.0, 0.0, per_c)
        return out
    try:
        y = np.where(x >= 0, x, x * s).astype(np.float32)
    except ValueError:
        raise ValueError(f"prelu: slope of shape {s.shape} does not broadcast against x of shape {x.shape}") from None
    if y.shape != x.shape:
        raise ValueError(f"prelu: slope of shape {s.shape} would change x's shape {x.shape} to {y.shape}")
    if out is not None:
        out[...] = y
        return out
    return y


def _binary(op, a, b, act, out):
    a, b = as_float32(a, "a"), as_float32(b, "b")
    kind, alpha, beta = _activation(act)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: a has shape {a.shape} and b has shape {b.shape}, which do not broadcast") from None
    if out is None:
        out = _memory.empty(shape)
    if a.shape == b.shape:
        _C.binary(a, b, out, op, kind, alpha, beta)
        return out
    for big, small in ((a, b), (b, a)):
        if big.shape != shape:
            continue
        vec = np.ascontiguousarray(small.reshape(())).reshape(1) if small.size == 1 else _per_channel(small, shape)
        if vec is None:
            continue
        if small.size == 1:  # a scalar is a channel vector of one channel
            view = big.reshape(1, 1, -1)
            vec = vec.astype(np.float32)
            dst = out.reshape(1, 1, -1)
        else:
            view, dst = big, out
        scale, shift = (None, vec) if op == "add" else (vec, None)
        _C.channel_affine(view, dst, scale, shift, kind, alpha, beta)
        return out
    y = (np.add if op == "add" else np.multiply)(a, b)
    return _apply(y, (kind, alpha, beta) if kind != "none" else None, out)


def add(a, b, activation=None, *, out=None) -> np.ndarray:
    """activation(a + b) with numpy broadcasting (residual connections, per-channel bias)."""
    return _binary("add", a, b, activation, out)


def mul(a, b, activation=None, *, out=None) -> np.ndarray:
    """activation(a * b) with numpy broadcasting (per-channel scale, gating)."""
    return _binary("mul", a, b, activation, out)


def concat(xs, axis=1, *, out=None) -> np.ndarray:
    """Concatenation along axis (channels by default); shapes must agree elsewhere.

    out: an optional float32 array of the result's shape to write into."""
    xs = [as_float32(x, f"xs[{i}]") for i, x in enumerate(xs)]
    if not xs:
        raise ValueError("concat needs at least one array")
    nd = xs[0].ndim
    if not isinstance(axis, numbers.Integral) or not -nd <= axis < nd:
        raise ValueError(f"axis {axis!r} is out of range for {nd}-D inputs")
    ax = int(axis) % nd
    for i, x in enumerate(xs):
        if x.ndim != nd or x.shape[:ax] + x.shape[ax + 1:] != xs[0].shape[:ax] + xs[0].shape[ax + 1:]:
            raise ValueError(f"concat along axis {ax}: xs[{i}] has shape {x.shape}, xs[0] has shape {xs[0].shape}; "
                             f"all dimensions but axis {ax} must match")
    shape = xs[0].shape[:ax] + (sum(x.shape[ax] for x in xs),) + xs[0].shape[ax + 1:]
    if out is None:
        out = _memory.empty(shape)
    elif not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.shape != shape:
        raise ValueError(f"out must be a float32 array of shape {shape}, got "
                         f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}")
    return np.concatenate(xs, axis=ax, out=out)


def flatten(x, axis=1) -> np.ndarray:
    """(d0, ..., d_{axis-1}, rest) -> 2-D (prod of leading dims, prod of the rest), as ONNX Flatten."""
    x = as_float32(x, "x")
    if not isinstance(axis, numbers.Integral) or not 0 <= axis <= x.ndim:
        raise ValueError(f"axis {axis!r} is out of range for x with {x.ndim} dimensions")
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    return x.reshape(lead, -1) if x.size else x.reshape(lead, int(np.prod(x.shape[axis:], dtype=np.int64)))


def linear(x, weight, bias=None, activation=None, *, out=None) -> np.ndarray:
    """Dense layer: activation(x @ weight.T + bias) with x (N, in), weight (out, in). Batches up to 32
    stream the weight rows once (the product is memory-bound); larger ones run the packed GEMM.
    To run the same weights many times, fastconv.layers.Dense prepares them once."""
    x = as_float32(x, "x", ndim=2)
    w = as_float32(weight, "weight", ndim=2)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"linear: x has {x.shape[1]} features (shape {x.shape}), weight {w.shape} expects {w.shape[1]}")
    if bias is not None:
        bias = as_float32(bias, "bias", ndim=1)
        if bias.shape[0] != w.shape[0]:
            raise ValueError(f"linear: bias has {bias.shape[0]} values, weight {w.shape} has {w.shape[0]} outputs")
    if out is None:
        out = _memory.empty((x.shape[0], w.shape[0]))
    if x.shape[0]:
        _C.DensePlan(w, bias, *_activation(activation)).run(x, out)
    return out

"""Argument checks shared by the public functions: one rule per kind of argument.

Dtype rule (everywhere in fastconv): float32 arrays are used as they are; other real
floating dtypes (float16, float64) are converted to float32 and the result is float32;
integer, bool, complex and object arrays are refused with a TypeError. Arrays that are
not C-contiguous are copied once.
"""
from __future__ import annotations

import numbers

import numpy as np

ACTIVATIONS = ("relu", "relu6", "clip", "leaky_relu", "sigmoid", "tanh", "silu", "hard_sigmoid",
               "hard_swish", "elu", "softplus")


def as_float32(x, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Returns x as a C-contiguous float32 ndarray, or raises TypeError/ValueError naming `name`."""
    if hasattr(x, "__cuda_array_interface__"):   # first: the tests' CPU stand-in for CuPy subclasses ndarray
        raise TypeError(f"{name} is a GPU array, and this runs on the CPU: pass a numpy array "
                        "(cupy.asnumpy), or use an op that runs on the GPU (conv2d, ConvPlan, pooling, "
                        "batch_norm, activations, softmax, lrn take CuPy arrays; fastconv.gpu has them all)")
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype != np.float32:
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{name} must be a floating-point array (float32 preferred), got dtype {x.dtype}")
        x = x.astype(np.float32)
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in dims:
            want = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{name} must be {want}, got {x.ndim}-D array of shape {x.shape}")
    return np.ascontiguousarray(x)


def pair(v, name: str) -> tuple[int, int]:
    """An int or a pair of ints, each >= 1 (stride, dilation, kernel size)."""
    vals = (v, v) if isinstance(v, numbers.Integral) else tuple(v)
    if len(vals) != 2 or not all(isinstance(i, numbers.Integral) for i in vals):
        raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}")
    if min(vals) < 1:
        raise ValueError(f"{name} must be >= 1, got {v!r}")
    return int(vals[0]), int(vals[1])


def pads4(padding, name: str = "padding") -> tuple[int, int, int, int]:
    """An int, a pair (h, w), or four values (top, left, bottom, right) as ONNX orders them."""
    if isinstance(padding, numbers.Integral):
        vals = (padding,) * 4
    else:
        vals = tuple(padding)
        if len(vals) == 2:
            vals = (vals[0], vals[1], vals[0], vals[1])
    if len(vals) != 4 or not all(isinstance(i, numbers.Integral) for i in vals):
        raise TypeError(f"{name} must be an int, a pair (h, w) or four ints (top, left, bottom, right), got {padding!r}")
    if min(vals) < 0:
        raise ValueError(f"{name} must be >= 0, got {padding!r}")
    return tuple(int(i) for i in vals)


def activation(spec) -> tuple[str, float, float]:
    """Normalises an activation spec to (kind, alpha, beta) for the C++ side.

    None, a name ("relu", "relu6", "sigmoid", ...), or a tuple with parameters:
    ("leaky_relu", alpha=0.01), ("clip", min, max), ("hard_sigmoid", alpha=0.2, beta=0.5),
    ("elu", alpha=1.0).
    """
    if spec is None or spec == "none":
        return ("none", 0.0, 0.0)
    name, *params = (spec,) if isinstance(spec, str) else tuple(spec)
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: expected None or one of {', '.join(ACTIVATIONS)}")
    defaults = {"leaky_relu": (0.01, 0.0), "clip": (-np.inf, np.inf), "hard_sigmoid": (0.2, 0.5), "elu": (1.0, 0.0)}
    if name == "relu6":
        return ("clip", 0.0, 6.0)
    alpha, beta = defaults.get(name, (0.0, 0.0))
    if params:
        alpha = float(params[0])
    if len(params) > 1:
        beta = float(params[1])
    if name == "clip" and alpha > beta:
        raise ValueError(f"clip needs min <= max, got min={alpha}, max={beta}")
    return (name, float(alpha), float(beta))


def check_conv_layer(weight_shape, groups, bias_shape=None) -> None:
    """The checks every convolution plan (CPU or GPU) makes on its weights: groups, bias length."""
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    k = weight_shape[0]
    if k % groups:
        raise ValueError(f"groups={groups} must divide the output channels (weight.shape[0]={k})")
    if bias_shape is not None and bias_shape[0] != k:
        raise ValueError(f"bias has {bias_shape[0]} values, the weight has {k} output channels")

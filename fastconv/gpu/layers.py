"""Pooling, batch norm, activations, softmax and LRN on CuPy arrays (NCHW float32), each one
kernel launch on CuPy's current stream. Same signatures and semantics as the CPU layer functions;
inputs may be cupy (or numpy, uploaded), outputs are cupy arrays on the input's device."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _checks
from . import _geometry, _math
from ._arrays import as_gpu_float32, output
from ._backend import kernel, require_device
from .conv import channel_epilogue

__all__ = ["max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d", "batch_norm", "activation",
           "softmax", "log_softmax", "lrn", "pool2d_output_shape"]

_i32, _i64, _f32 = np.int32, np.int64, np.float32


def _device_of(x) -> int:
    return x.device.id if isinstance(x, require_device().ndarray) else require_device().cuda.Device().id


def _input(x, name="x", ndim=4):
    return as_gpu_float32(x, name, ndim=ndim, device=_device_of(x))


def pool2d_output_shape(input_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(N, C, OH, OW) of a 2-D pooling; stride defaults to kernel_size."""
    kh, kw = _checks.pair(kernel_size, "kernel_size")
    sh, sw = _checks.pair(kernel_size if stride is None else stride, "stride")
    dh, dw = _checks.pair(dilation, "dilation")
    pt, pl, pb, pr = _checks.pads4(padding)
    n, c, h, w = input_shape
    oh = _geometry.pool_output_size(h, kh, sh, pt, pb, dh, ceil_mode)
    ow = _geometry.pool_output_size(w, kw, sw, pl, pr, dw, ceil_mode)
    return n, c, oh, ow


def _pool_params(kernel_size, stride, padding, dilation):
    return (_checks.pair(kernel_size, "kernel_size"),
            _checks.pair(kernel_size if stride is None else stride, "stride"),
            _checks.pads4(padding), _checks.pair(dilation, "dilation"))


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, *, out=None):
    """Max over each (dilated) window; padding never wins (it acts as -inf). NaN propagates."""
    x = _input(x)
    shape = pool2d_output_shape(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    (kh, kw), (sh, sw), (pt, pl, _, _), (dh, dw) = _pool_params(kernel_size, stride, padding, dilation)
    out = output(out, shape, x.device.id)
    grid, block = _geometry.grid_for(out.size)
    with x.device:
        kernel("pool.cu", "fc_max_pool2d")(grid, block, (
            x, out, _i64(shape[0] * shape[1]), _i32(x.shape[2]), _i32(x.shape[3]), _i32(kh), _i32(kw), _i32(sh),
            _i32(sw), _i32(dh), _i32(dw), _i32(pt), _i32(pl), _i32(shape[2]), _i32(shape[3])))
    return out


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=False, *, out=None):
    """Mean over each window: divided by the window clipped to the padded input when
    count_include_pad, else by the number of input elements it covers."""
    x = _input(x)
    shape = pool2d_output_shape(x.shape, kernel_size, stride, padding, 1, ceil_mode)
    (kh, kw), (sh, sw), (pt, pl, pb, pr), _ = _pool_params(kernel_size, stride, padding, 1)
    out = output(out, shape, x.device.id)
    grid, block = _geometry.grid_for(out.size)
    with x.device:
        kernel("pool.cu", "fc_avg_pool2d")(grid, block, (
            x, out, _i64(shape[0] * shape[1]), _i32(x.shape[2]), _i32(x.shape[3]), _i32(kh), _i32(kw), _i32(sh),
            _i32(sw), _i32(pt), _i32(pl), _i32(pb), _i32(pr), _i32(shape[2]), _i32(shape[3]),
            _i32(bool(count_include_pad))))
    return out


def _global_pool(x, out, take_max: int):
    x = _input(x)
    n, c, h, w = x.shape
    out = output(out, (n, c, 1, 1), x.device.id)
    grid, block = _geometry.grid_for(n * c * 32)   # one warp per (n, c) plane
    with x.device:
        kernel("pool.cu", "fc_global_pool")(grid, block, (x, out, _i64(n * c), _i64(h * w), _i32(take_max)))
    return out


def global_avg_pool2d(x, *, out=None):
    """Mean over H and W: (N, C, H, W) -> (N, C, 1, 1)."""
    return _global_pool(x, out, 0)


def global_max_pool2d(x, *, out=None):
    """Maximum over H and W: (N, C, H, W) -> (N, C, 1, 1). NaN propagates."""
    return _global_pool(x, out, 1)


def batch_norm(x, scale, bias, mean, var, eps=1e-5, activation=None, *, out=None):
    """Inference batch norm over axis 1, then an optional activation:
    act((x - mean) / sqrt(var + eps) * scale + bias). x is (N, C, ...) with any trailing dims."""
    x = _input(x, ndim=(2, 3, 4, 5))
    cp = require_device()
    c = x.shape[1]
    params = []
    for p, name in zip((scale, bias, mean, var), ("scale", "bias", "mean", "var")):
        p = as_gpu_float32(p, name, ndim=1, device=x.device.id)
        if p.shape[0] != c:
            raise ValueError(f"{name} has shape {p.shape}, expected ({c},) for x of shape {x.shape}")
        params.append(p)
    if not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"eps must be a non-negative number, got {eps!r}")
    act = _checks.activation(activation)
    out = output(out, x.shape, x.device.id)
    with x.device:
        s, t = _math.fold_batch_norm(cp, *params, np.float32(eps))
        channel_epilogue(x, out, s, t, None, _math.ACT_CODES[act[0]], act[1], act[2])
    return out


def activate(x, spec):
    """x = spec(x) in place, for an activation spec as the conv epilogues take it (None, a name,
    or (name, params...)); None leaves x as it is. For the layers a compiled step ends with."""
    if spec is None or spec == "none":
        return x
    return activation(x, *((spec,) if isinstance(spec, str) else tuple(spec)), out=x)


def activation(x, kind, *params, out=None):
    """An element-wise activation, as fastconv.activation: activation(x, "relu"),
    activation(x, "leaky_relu", 0.1), activation(x, "clip", 0, 6), ... (the conv epilogue's kinds)."""
    x = _input(x, ndim=None)
    act = _checks.activation((kind, *params) if params else kind)
    out = output(out, x.shape, x.device.id)
    view = x.reshape(1, 1, -1)   # one "channel": the per-channel kernel with no scale/shift
    with x.device:
        channel_epilogue(view, out.reshape(view.shape), None, None, None, _math.ACT_CODES[act[0]], act[1], act[2])
    return out


def _softmax(x, axis, out, log_out: int):
    x = _input(x, ndim=None)
    if not isinstance(axis, numbers.Integral) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis!r} is out of range for x of shape {x.shape}")
    axis = int(axis) % x.ndim
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    length = x.shape[axis]
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    out = output(out, x.shape, x.device.id)
    if x.size == 0:
        return out
    with x.device:
        if inner == 1:   # one block per row; the kernel's reduction assumes BLOCK threads
            grid = (max(1, min(outer, _geometry.MAX_BLOCKS)),)
            kernel("softmax.cu", "fc_softmax_lastaxis")(grid, (_geometry.BLOCK,),
                                                        (x, out, _i64(outer), _i64(length), _i32(log_out)))
        else:
            grid, block = _geometry.grid_for(outer * inner)
            kernel("softmax.cu", "fc_softmax_strided")(grid, block, (x, out, _i64(outer), _i64(length), _i64(inner),
                                                                     _i32(log_out)))
    return out


def softmax(x, axis=-1, *, out=None):
    """exp(x - max) / sum over `axis` (numerically safe for any magnitude)."""
    return _softmax(x, axis, out, 0)


def log_softmax(x, axis=-1, *, out=None):
    """x - max - log(sum(exp(x - max))) over `axis`."""
    return _softmax(x, axis, out, 1)


def lrn(x, size, alpha=1e-4, beta=0.75, bias=1.0, *, out=None):
    """Local response normalisation across channels (ONNX LRN): x / (bias + alpha/size * sum x^2)^beta."""
    x = _input(x, ndim=(3, 4, 5))
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    n, c = x.shape[:2]
    plane = int(np.prod(x.shape[2:], dtype=np.int64))
    out = output(out, x.shape, x.device.id)
    grid, block = _geometry.grid_for(x.size)
    with x.device:
        kernel("lrn.cu", "fc_lrn")(grid, block, (x, out, _i32(n), _i32(c), _i64(plane), _i32(size), _f32(alpha),
                                                 _f32(beta), _f32(bias)))
    return out

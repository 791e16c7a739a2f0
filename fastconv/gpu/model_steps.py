"""The GPU versions of a compiled Model's steps (fastconv/model.py, device="cuda"): the same
fusions as on the CPU (BN folded into the conv, residual Add and activation in its epilogue), run
by fastconv.gpu's kernels on CuPy arrays. Weights are uploaded once, when the model compiles;
activations stay on the GPU from the model's input to its output."""
from __future__ import annotations

from .. import layers as L
from .._checks import activation as norm_act
from . import conv as _conv
from . import layers as _ops
from ._arrays import as_gpu_float32
from ._backend import require_device


def conv_plan(layer, weight, bias, act):
    """The conv step: a GPU ConvPlan (called as plan(x) or plan(x, residual=r))."""
    h, w = layer.input_shapes[0][1:]
    return _conv.ConvPlan(weight, bias, layer.strides, layer.pads(h, w), layer.dilation, layer.groups, act)


def dense_fn(layer, act):
    """y = act(x @ W^T + b): cuBLAS through cupy.matmul on the transposed weight uploaded once."""
    cp = require_device()
    wt = cp.ascontiguousarray(as_gpu_float32(layer.weights["weight"], "weight", ndim=2).T)
    b = layer.weights.get("bias")
    b = None if b is None else as_gpu_float32(b, "bias", ndim=1)
    norm_act(act)  # an unknown activation fails here, when the model compiles

    def run(x):
        y = cp.matmul(x, wt)
        if b is not None:
            y += b
        return _ops.activate(y, act)
    return run


def bn_fn(layer, act):
    """Batch norm (not folded into a conv) with its activation, one kernel."""
    w = layer.weights
    params = [as_gpu_float32(w[k], k, ndim=1) for k in ("gamma", "beta", "moving_mean", "moving_var")]
    return lambda x: _ops.batch_norm(x, *params, layer.epsilon, act)


def layer_fn(layer):
    """Any other layer: a function of GPU arrays, the same semantics as layer.call on the CPU."""
    cp = require_device()
    if isinstance(layer, L.MaxPooling2D):
        return lambda x: _ops.max_pool2d(x, layer.pool_size, layer.strides, layer.padding, layer.dilation,
                                         layer.ceil_mode)
    if isinstance(layer, L.AveragePooling2D):
        return lambda x: _ops.avg_pool2d(x, layer.pool_size, layer.strides, layer.padding, layer.ceil_mode,
                                         layer.count_include_pad)
    if isinstance(layer, L._GlobalPool):
        fn = _ops.global_max_pool2d if isinstance(layer, L.GlobalMaxPooling2D) else _ops.global_avg_pool2d
        return lambda x: fn(x) if layer.keepdims else fn(x).reshape(x.shape[0], -1)
    if isinstance(layer, L.Activation):
        if layer.kind in ("softmax", "log_softmax"):
            fn = _ops.softmax if layer.kind == "softmax" else _ops.log_softmax
            return lambda x: fn(x, axis=1)
        return lambda x: _ops.activation(x, layer.kind, *layer.params)
    if isinstance(layer, L.Softmax):
        return lambda x: _ops.softmax(x, axis=layer.axis % (x.ndim - 1) + 1)
    if isinstance(layer, L.LRN):
        return lambda x: _ops.lrn(x, layer.size, layer.alpha, layer.beta, layer.bias)
    if isinstance(layer, L.PReLU):
        slope = as_gpu_float32(layer.weights["slope"], "slope", ndim=1)
        return lambda x: cp.where(x >= 0, x, x * slope.reshape((1, -1) + (1,) * (x.ndim - 2)))
    if isinstance(layer, L.Add):
        def add(*xs):
            y = xs[0] + xs[1]
            for x in xs[2:]:
                y += x
            return _ops.activate(y, layer.activation)
        return add
    if isinstance(layer, L.Concatenate):
        return lambda *xs: cp.concatenate(xs, axis=layer.axis)
    if isinstance(layer, (L.Flatten, L.Dropout)):
        return layer.call  # reshape / identity: the same on any array
    raise NotImplementedError(f"layer {layer.name!r} ({type(layer).__name__}) has no GPU implementation")


def upload_input(x, name):
    """A model input as a float32 cupy array on the current device (numpy is uploaded)."""
    return as_gpu_float32(x, name)


def concatenate(parts):
    return require_device().concatenate(parts, axis=0)


def empty(shape):
    cp = require_device()
    return cp.empty(shape, dtype=cp.float32)


__all__ = ["conv_plan", "dense_fn", "bn_fn", "layer_fn", "upload_input", "concatenate", "empty"]

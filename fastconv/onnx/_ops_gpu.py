"""The operator table of InferenceSession(device="cuda"): the CNN subset of the ONNX ops on
fastconv.gpu's kernels (CuPy arrays in and out). Same factory contract as _registry.OPS: a factory
sees one node once (attributes, constant inputs) and returns the function run on every call; weights
are uploaded (and, for Winograd, transformed) there, once. Shape-only inputs (Reshape's shape,
Squeeze's axes) must be constants: the optimizer folds the usual shape computations into them.
Graphs with other ops are refused at load time with the list (run them with device="cpu")."""
from __future__ import annotations

import numpy as np

from . import _ops_nn, _ops_tensor  # noqa: F401  (fill OPS, whose shape-only ops are reused below)
from ._ops_nn import _as2d, _pads2d, _spatial_pads
from ._registry import OPS as _CPU_OPS
from ._registry import OpError

GPU_OPS: dict = {}


def _op(*names):
    def register(factory):
        for n in names:
            GPU_OPS[n] = factory
        return factory
    return register


def _fg():
    import fastconv.gpu as fg
    return fg


def _cp():
    from fastconv.gpu._backend import require_device
    return require_device()


def _upload(a, name):
    from fastconv.gpu._arrays import as_gpu_float32
    return as_gpu_float32(a, name)


@_op("Conv")
def conv(node, ctx):
    w, b = ctx.const(node, 1), ctx.const(node, 2)
    if w is None or (ctx.has(node, 2) and b is None):
        raise OpError(f"{node.label()}: weights and bias must be constants on device='cuda'")
    if w.ndim != 4:
        raise OpError(f"{node.label()}: only 2-D convolution runs on device='cuda' (weight {w.shape})")
    group = int(node.attrs.get("group", 1))
    act = node.attrs.get("_activation")
    plans = {}

    def run(x, w_=None, b_=None, residual=None):
        key = tuple(x.shape[2:])
        plan = plans.get(key)
        if plan is None:
            kernel = list(node.attrs.get("kernel_shape", w.shape[2:]))
            strides = list(node.attrs.get("strides", [1, 1]))
            dil = list(node.attrs.get("dilations", [1, 1]))
            pads = _pads2d(_spatial_pads(node, x.shape[2:], kernel, strides, dil), 2)
            plan = plans[key] = _fg().ConvPlan(w, b, tuple(_as2d(strides, 2, 1)), pads, tuple(_as2d(dil, 2, 1)),
                                               group, act, allow_tf32=ctx.allow_tf32)
        if residual is not None and tuple(residual.shape) != plan.output_shape(x.shape):
            raise OpError(f"{node.label()}: a residual that broadcasts ({residual.shape}) is not fused on "
                          "device='cuda'")
        return plan(x, residual=residual)

    return run


@_op("BatchNormalization")
def batch_norm(node, ctx):
    params = [ctx.const(node, i) for i in range(1, 5)]
    if any(p is None for p in params):
        raise OpError(f"{node.label()}: scale, bias, mean and var must be constants on device='cuda'")
    gpu_params = [_upload(p, n) for p, n in zip(params, ("scale", "bias", "mean", "var"))]
    eps, act = float(node.attrs.get("epsilon", 1e-5)), node.attrs.get("_activation")
    return lambda x, *_: _fg().batch_norm(x, *gpu_params, eps, act)


_ACTS = {"Relu": lambda a: ("relu",), "Sigmoid": lambda a: ("sigmoid",), "Tanh": lambda a: ("tanh",),
         "HardSwish": lambda a: ("hard_swish",), "Softplus": lambda a: ("softplus",),
         "LeakyRelu": lambda a: ("leaky_relu", float(a.get("alpha", 0.01))),
         "Elu": lambda a: ("elu", float(a.get("alpha", 1.0))),
         "HardSigmoid": lambda a: ("hard_sigmoid", float(a.get("alpha", 0.2)), float(a.get("beta", 0.5)))}


@_op(*_ACTS)
def activation(node, ctx):
    args = _ACTS[node.op](node.attrs)
    return lambda x: _fg().activation(x, *args)


@_op("PRelu")
def prelu(node, ctx):
    """x >= 0 ? x : slope * x with a constant slope broadcast as ONNX does (a Model's PReLU: (C, 1, 1))."""
    slope = ctx.const(node, 1)
    if slope is None:
        raise OpError(f"{node.label()}: the slope must be a constant on device='cuda'")
    s = _upload(np.asarray(slope, np.float32), "slope")
    return lambda x, *_: _cp().where(x >= 0, x, x * s)


@_op("Clip")
def clip(node, ctx):
    if ctx.opset < 11:
        lo, hi = node.attrs.get("min", -np.inf), node.attrs.get("max", np.inf)
    else:
        bounds = [ctx.const(node, i) if ctx.has(node, i) else None for i in (1, 2)]
        if any(ctx.has(node, i) and v is None for i, v in zip((1, 2), bounds)):
            raise OpError(f"{node.label()}: min and max must be constants on device='cuda'")
        lo = -np.inf if bounds[0] is None else float(bounds[0])
        hi = np.inf if bounds[1] is None else float(bounds[1])
    if lo > hi:  # ONNX: every element becomes max
        return lambda x, *_: _cp().full_like(x, hi)
    return lambda x, *_: _fg().activation(x, "clip", lo, hi)


@_op("MaxPool", "AveragePool")
def pool(node, ctx):
    if len(node.outputs) > 1 and node.outputs[1]:
        raise OpError(f"{node.label()}: the Indices output of MaxPool is not supported")
    ceil = bool(node.attrs.get("ceil_mode", 0))
    include = bool(node.attrs.get("count_include_pad", 0))
    kernel = list(node.attrs["kernel_shape"])
    if len(kernel) != 2:
        raise OpError(f"{node.label()}: only 2-D pooling runs on device='cuda'")
    strides, dil = list(node.attrs.get("strides", [1, 1])), list(node.attrs.get("dilations", [1, 1]))

    def run(x):
        pads = _pads2d(_spatial_pads(node, x.shape[2:], kernel, strides, dil), 2)
        if node.op == "MaxPool":
            return _fg().max_pool2d(x, kernel, strides, pads, dil, ceil)
        if dil != [1, 1]:
            raise OpError(f"{node.label()}: dilated average pooling is not supported on device='cuda'")
        return _fg().avg_pool2d(x, kernel, strides, pads, ceil, include)

    return run


@_op("GlobalAveragePool", "GlobalMaxPool")
def global_pool(node, ctx):
    avg = node.op == "GlobalAveragePool"
    return lambda x: _fg().global_avg_pool2d(x) if avg else _fg().global_max_pool2d(x)


@_op("LRN")
def lrn(node, ctx):
    a = node.attrs
    return lambda x: _fg().lrn(x, int(a["size"]), float(a.get("alpha", 1e-4)), float(a.get("beta", 0.75)),
                               float(a.get("bias", 1.0)))


@_op("Softmax", "LogSoftmax")
def softmax(node, ctx):
    legacy = ctx.opset < 13
    axis = int(node.attrs.get("axis", 1 if legacy else -1))
    fn_name = "softmax" if node.op == "Softmax" else "log_softmax"

    def run(x):
        fn = getattr(_fg(), fn_name)
        if legacy:  # opset < 13: over the flattened trailing axes
            ax = axis + x.ndim if axis < 0 else axis
            lead = int(np.prod(x.shape[:ax], dtype=np.int64))
            return fn(x.reshape(lead, -1), axis=-1).reshape(x.shape)
        return fn(x, axis=axis)

    return run


_BINARY = {"Add": "add", "Sub": "subtract", "Mul": "multiply", "Div": "divide"}


@_op("Add", "Sub", "Mul", "Div", "Sum")
def binary(node, ctx):
    consts = {i: _upload(ctx.const(node, i), f"input {i}") for i in range(len(node.inputs))
              if ctx.const(node, i) is not None}
    act = node.attrs.get("_activation")
    name = _BINARY.get(node.op, "add")

    def run(*xs):
        xs = [consts.get(i, x) for i, x in enumerate(xs)]
        y = getattr(_cp(), name)(xs[0], xs[1])
        for x in xs[2:]:
            y += x
        return _fg().layers.activate(y, act)

    return run


@_op("Concat")
def concat(node, ctx):
    axis = int(node.attrs.get("axis", 1))
    return lambda *xs: _cp().concatenate([x for x in xs if x is not None], axis=axis)


# Shape-only ops: the CPU session's own functions, which only call .reshape / numpy functions that
# CuPy arrays take too (np.squeeze, np.transpose dispatch to CuPy); their shape inputs are constants.
for _name in ("Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Identity", "Dropout"):
    GPU_OPS[_name] = _CPU_OPS[_name]


@_op("Gemm", "MatMul")
def matmul(node, ctx):
    """y = act(alpha * A' B' + beta * C) with B (and C) constant: cuBLAS through cupy.matmul on the
    weight uploaded once, transposed as needed."""
    b = ctx.const(node, 1)
    if b is None or b.ndim != 2:
        raise OpError(f"{node.label()}: B must be a 2-D constant on device='cuda'")
    gemm = node.op == "Gemm"
    alpha = float(node.attrs.get("alpha", 1.0)) if gemm else 1.0
    beta = float(node.attrs.get("beta", 1.0)) if gemm else 1.0
    ta = int(node.attrs.get("transA", 0)) if gemm else 0
    bb = (b.T if gemm and node.attrs.get("transB", 0) else b) * np.float32(alpha)
    w = _cp().ascontiguousarray(_upload(bb, "B"))
    c = ctx.const(node, 2)
    if ctx.has(node, 2) and c is None:
        raise OpError(f"{node.label()}: the bias must be a constant on device='cuda'")
    bias = None if c is None or beta == 0.0 else _upload(np.asarray(c, np.float32) * np.float32(beta), "C")
    act = node.attrs.get("_activation")

    def run(a, *_):
        y = _cp().matmul(a.T if ta else a, w)
        if bias is not None:
            y += bias
        return _fg().layers.activate(y, act)

    return run


def unsupported(graph) -> dict[str, str]:
    """{op type: the first node using it} for every node the GPU table cannot run."""
    missing: dict[str, str] = {}
    for n in graph.nodes:
        if n.op not in GPU_OPS and n.op not in missing:
            missing[n.op] = n.label()
    return missing

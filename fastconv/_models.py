"""ONNX models as the command line and the benchmark see them: loading with clear errors, a
summary (inputs, ops, parameters, FLOPs, the engine's algorithm per convolution), the batch
dimension made free, and the embedded default models with seeded random weights.

Only needs `onnx` (the `onnx` extra); fastconv's runtime is reached through `session()`.
"""
from __future__ import annotations

import collections
import os
from dataclasses import dataclass, field

import numpy as np

# The default benchmark: model-zoo architectures from the light files inside the onnx wheel, with
# seeded random weights (fastconv.onnx.zoo), so it needs no download.
ZOO = ("alexnet", "vgg19", "googlenet", "resnet50")


class ModelError(ValueError):
    """A model file that is missing, not ONNX, or that fastconv cannot run."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('reading ONNX models needs the onnx package: pip install "fastconv[onnx]"') from None
    return onnx


def require_onnx() -> None:
    """ImportError with the install line when the onnx package is missing."""
    _onnx()


def load(path):
    """The onnx.ModelProto in `path` (or the proto itself), or ModelError saying what is wrong."""
    onnx = _onnx()
    if isinstance(path, onnx.ModelProto):
        return path
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelError(f"model file not found: {path}")
    if os.path.isdir(path):
        raise ModelError(f"{path} is a directory, expected an .onnx model file")
    try:
        model = onnx.load(path)
    except Exception as e:  # protobuf raises DecodeError, RuntimeWarning, ... depending on the bytes
        raise ModelError(f"{path} is not an ONNX model ({type(e).__name__}: {e})") from None
    if not model.graph.node:
        raise ModelError(f"{path} is not an ONNX model (no graph nodes)")
    return model


def session(model):
    """fastconv's InferenceSession for an ONNX model (path, bytes or ModelProto), or ModelError."""
    from .onnx import InferenceSession

    try:
        return InferenceSession(model)
    except FileNotFoundError as e:
        raise ModelError(str(e)) from None
    except (ValueError, NotImplementedError, TypeError) as e:
        raise ModelError(f"fastconv cannot run this model: {e}") from None


@dataclass
class TensorInfo:
    name: str
    shape: tuple  # ints, or strings for symbolic dimensions
    dtype: str

    def __str__(self):
        dims = ", ".join(str(d) for d in self.shape)
        return f"{self.name}: {self.dtype}[{dims}]"


@dataclass
class ConvInfo:
    name: str
    weight: tuple
    input_hw: tuple | None
    stride: tuple
    pads: tuple
    dilation: tuple
    group: int
    flops: int
    algo: str | None = None


@dataclass
class Summary:
    inputs: list
    outputs: list
    ops: dict
    parameters: int
    flops: int
    convs: list = field(default_factory=list)


def _dtype_name(elem_type: int) -> str:
    onnx = _onnx()
    try:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).name
    except Exception:
        return f"type{elem_type}"


def _tensor_info(vi) -> TensorInfo:
    t = vi.type.tensor_type
    shape = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim)
    return TensorInfo(vi.name, shape, _dtype_name(t.elem_type))


def graph_inputs(model) -> list:
    """The inputs a caller feeds: graph inputs that are not initializers (old models list both)."""
    inits = {i.name for i in model.graph.initializer}
    return [_tensor_info(vi) for vi in model.graph.input if vi.name not in inits]


def graph_outputs(model) -> list:
    return [_tensor_info(vi) for vi in model.graph.output]


def _constant_shapes(model) -> dict:
    """Shapes of every constant: initializers, Constant nodes, ConstantOfShape of a constant shape."""
    onnx = _onnx()
    shapes = {i.name: tuple(i.dims) for i in model.graph.initializer}
    # Only small integer tensors can be shapes; reading the weights would copy them all.
    values = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer
              if i.data_type == onnx.TensorProto.INT64 and len(i.dims) == 1}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    values[node.output[0]] = onnx.numpy_helper.to_array(a.t)
                    shapes[node.output[0]] = values[node.output[0]].shape
        elif node.op_type == "ConstantOfShape" and node.input and node.input[0] in values:
            shapes[node.output[0]] = tuple(int(d) for d in values[node.input[0]])
    return shapes


def _attrs(node) -> dict:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv_pads(attrs, in_hw, kernel, stride, dilation):
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", "") or in_hw is None:
        p = list(attrs.get("pads", [0, 0, 0, 0]))
        return (p[0], p[1], p[2], p[3]) if len(p) == 4 else (0, 0, 0, 0)
    if auto == "VALID":
        return (0, 0, 0, 0)
    total = []
    for size, k, s, d in zip(in_hw, kernel, stride, dilation):
        out = -(-size // s)
        total.append(max(0, (out - 1) * s + (k - 1) * d + 1 - size))
    (th, tw) = total
    if auto == "SAME_UPPER":
        return (th // 2, tw // 2, th - th // 2, tw - tw // 2)
    return (th - th // 2, tw - tw // 2, th // 2, tw // 2)


def with_batch(model, batch: int):
    """A copy whose input batch dimension is `batch` (Reshape targets that pin the batch to 1
    become 0, 'copy the input dimension'), so a model exported for batch 1 runs any batch."""
    onnx = _onnx()
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inits = {i.name for i in m.graph.initializer}
    for vi in m.graph.input:
        if vi.name not in inits and vi.type.tensor_type.shape.dim:
            dim = vi.type.tensor_type.shape.dim[0]
            dim.Clear()
            dim.dim_value = batch
    for vi in m.graph.output:
        if vi.type.tensor_type.shape.dim:
            vi.type.tensor_type.shape.dim[0].Clear()
            vi.type.tensor_type.shape.dim[0].dim_param = "N"
    del m.graph.value_info[:]
    by_name = {i.name: i for i in m.graph.initializer}
    for node in m.graph.node:
        if node.op_type == "Reshape" and len(node.input) > 1 and node.input[1] in by_name:
            t = by_name[node.input[1]]
            shape = onnx.numpy_helper.to_array(t).copy()
            if shape.size and shape[0] == 1:
                shape[0] = 0
                t.CopyFrom(onnx.numpy_helper.from_array(shape.astype(np.int64), t.name))
    return m


def summarize(model, batch: int | None = None, algorithms: bool = True) -> Summary:
    """Inputs, outputs, op counts, parameter count, FLOPs (2 per multiply-add of Conv, Gemm and
    MatMul, the usual convention) and, for each convolution, the algorithm fastconv chooses."""
    onnx = _onnx()
    original = model
    if batch is not None:
        model = with_batch(model, batch)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:
        inferred = model
    shapes = {vi.name: _tensor_info(vi).shape for vi in list(inferred.graph.value_info)
              + list(inferred.graph.input) + list(inferred.graph.output)}
    shapes.update(_constant_shapes(model))
    consts = _constant_shapes(model)
    params = sum(int(np.prod(s)) for name, s in consts.items()
                 if any(name in n.input[1:] for n in model.graph.node))

    def known(shape):
        return shape is not None and all(isinstance(d, int) and d > 0 for d in shape)

    flops, convs = 0, []
    for node in model.graph.node:
        a = _attrs(node)
        out = shapes.get(node.output[0]) if node.output else None
        if node.op_type == "Conv":
            w = shapes.get(node.input[1])
            x = shapes.get(node.input[0])
            if not known(w):
                continue
            f = 2 * int(np.prod(out)) * int(np.prod(w[1:])) if known(out) else 0
            flops += f
            in_hw = tuple(x[2:]) if known(x) and len(x) == 4 else None
            stride = tuple(a.get("strides", [1, 1]))
            dilation = tuple(a.get("dilations", [1, 1]))
            pads = _conv_pads(a, in_hw, w[2:], stride, dilation)
            convs.append(ConvInfo(node.output[0] or node.name, tuple(w), in_hw, stride, pads, dilation,
                                  int(a.get("group", 1)), f))
        elif node.op_type == "Gemm" and known(out):
            b = shapes.get(node.input[1])
            if known(b):
                k = b[1] if a.get("transB", 0) else b[0]
                flops += 2 * int(np.prod(out)) * int(k)
        elif node.op_type == "MatMul" and known(out):
            x = shapes.get(node.input[0])
            if known(x):
                flops += 2 * int(np.prod(out)) * int(x[-1])
    if algorithms:
        _choose_algorithms(convs)
    ops = dict(collections.Counter(n.op_type for n in model.graph.node).most_common())
    return Summary(graph_inputs(original), graph_outputs(original), ops, params, flops, convs)


def _choose_algorithms(convs) -> None:
    """The algorithm fastconv's convolution registry picks for each layer's shape and input size.
    Weights do not influence the choice, so random ones stand in when the model's are not at hand."""
    import fastconv

    rng = np.random.default_rng(0)
    for c in convs:
        if c.input_hw is None or len(c.weight) != 4 or len(c.stride) != 2:
            continue
        try:
            w = rng.standard_normal(c.weight, dtype=np.float32)
            plan = fastconv.ConvPlan(w, None, c.stride, c.pads, c.dilation, c.group)
            c.algo = plan.algo_for(*c.input_hw)
        except (ValueError, TypeError) as e:
            c.algo = f"unsupported ({e})"


def default_model(name: str, seed: int = 0):
    """A default benchmark model (a ZOO key) with seeded random weights and a free batch dimension."""
    if name not in ZOO:
        raise ModelError(f"unknown default model {name!r}; choose from {', '.join(ZOO)}")
    from .onnx.zoo import random_weight_model

    return random_weight_model(name, seed)

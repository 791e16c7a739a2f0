"""ModelProto (or a path / bytes) -> the session's Graph, with every check that can run before any input
is seen: parse errors, external data confined to the model's folder, missing values, cycles, and
unsupported operators (one error listing them all)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._ir import Graph, Node, ValueInfo
from ._registry import OPS


class OnnxLoadError(ValueError):
    """The model cannot be loaded: the message says which part of the file is wrong."""


def _onnx():
    try:
        import onnx
    except ImportError as e:  # numpy is the only hard requirement of fastconv
        raise ImportError("fastconv.onnx needs the onnx package: pip install 'fastconv[onnx]'") from e
    return onnx


def load_proto(model):
    """A path, bytes or onnx.ModelProto -> (ModelProto without external data loaded, base folder or None)."""
    onnx = _onnx()
    from google.protobuf.message import DecodeError

    if isinstance(model, onnx.ModelProto):
        return model, None
    if isinstance(model, (bytes, bytearray, memoryview)):
        data, base = bytes(model), None
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"model file {str(path)!r} does not exist")
        data, base = path.read_bytes(), path.resolve().parent
    else:
        raise TypeError(f"model must be a path, bytes or an onnx.ModelProto, got {type(model).__name__}")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise OnnxLoadError(f"model is not a valid ONNX protobuf ({len(data)} bytes): the file is truncated or "
                            f"corrupt ({e})") from None
    if not proto.HasField("graph"):
        raise OnnxLoadError(f"model ({len(data)} bytes) has no graph: it is empty, truncated or not an ONNX file")
    return proto, base


def _external_bytes(tensor, base: Path | None) -> bytes:
    info = {e.key: e.value for e in tensor.external_data}
    loc = info.get("location", "")
    if base is None:
        raise OnnxLoadError(f"tensor {tensor.name!r} keeps its data in external file {loc!r}; load the model from its "
                            "path so the file can be found next to it")
    if not loc or os.path.isabs(loc) or Path(loc).is_absolute() or ".." in Path(loc).parts:
        raise OnnxLoadError(f"tensor {tensor.name!r} has external data location {loc!r}: only relative paths inside "
                            f"the model's folder {str(base)!r} are allowed")
    path = (base / loc).resolve()
    if base != path and base not in path.parents:
        raise OnnxLoadError(f"tensor {tensor.name!r}: external data {loc!r} resolves outside the model's folder")
    if not path.is_file():
        raise OnnxLoadError(f"tensor {tensor.name!r}: external data file {str(path)!r} does not exist")
    offset, length = int(info.get("offset", 0) or 0), info.get("length")
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(int(length)) if length is not None else f.read()
    if length is not None and len(data) != int(length):
        raise OnnxLoadError(f"tensor {tensor.name!r}: external file {loc!r} has only {len(data)} of {length} bytes "
                            f"at offset {offset}")
    return data


def tensor_to_numpy(tensor, base: Path | None = None) -> np.ndarray:
    onnx = _onnx()
    from onnx import numpy_helper

    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        t = onnx.TensorProto()
        t.CopyFrom(tensor)
        t.raw_data = _external_bytes(tensor, base)
        t.data_location = onnx.TensorProto.DEFAULT
        del t.external_data[:]
        tensor = t
    try:
        arr = numpy_helper.to_array(tensor)
    except Exception as e:  # onnx raises several types for inconsistent tensors
        raise OnnxLoadError(f"tensor {tensor.name!r} (dims {list(tensor.dims)}) is corrupt: {e}") from None
    if arr.dtype == object:
        raise OnnxLoadError(f"tensor {tensor.name!r} has string/unsupported element type {tensor.data_type}")
    return arr


def _dtype(elem_type):
    if not elem_type:
        return None
    from onnx import helper
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:
        return None


def _value_info(vi) -> ValueInfo:
    t = vi.type.tensor_type
    shape = None
    if t.HasField("shape"):
        shape = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim)
    return ValueInfo(vi.name, _dtype(t.elem_type), shape)


def _attrs(node, base) -> dict:
    onnx = _onnx()
    from onnx import helper

    out = {}
    for a in node.attribute:
        if a.type == onnx.AttributeProto.TENSOR:
            out[a.name] = tensor_to_numpy(a.t, base)
        elif a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            out[a.name] = _Subgraph()
        else:
            try:
                v = helper.get_attribute_value(a)
            except Exception as e:
                raise OnnxLoadError(f"{node.op_type} node {node.name!r}: attribute {a.name!r} is corrupt ({e})") from None
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            elif isinstance(v, list) and v and isinstance(v[0], bytes):
                v = [s.decode("utf-8", "replace") for s in v]
            out[a.name] = v
    return out


class _Subgraph:
    """Placeholder for control-flow bodies, which the session does not run (If/Loop/Scan are unsupported)."""


def opset_of(proto) -> int:
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 1 if not proto.opset_import else 0


def to_graph(proto, base: Path | None = None) -> Graph:
    """Converts and checks a model; raises OnnxLoadError / NotImplementedError with the reason."""
    g = proto.graph
    constants = {}
    for t in g.initializer:
        constants[t.name] = tensor_to_numpy(t, base)
    for st in g.sparse_initializer:
        raise OnnxLoadError(f"sparse initializer {st.values.name!r} is not supported; store it as a dense tensor")
    nodes = [Node(n.op_type, list(n.input), list(n.output), _attrs(n, base), n.name, n.domain) for n in g.node]
    inputs = [_value_info(v) for v in g.input if v.name not in constants]
    outputs = [_value_info(v) for v in g.output]
    graph = Graph(nodes, constants, inputs, outputs, opset_of(proto))
    check_supported(graph)
    graph.nodes = toposort(graph)
    graph.shapes = _static_shapes(proto)
    return graph


def _static_shapes(proto) -> dict:
    """Shapes ONNX shape inference can tell without inputs (symbolic dims as None); {} if it fails."""
    onnx = _onnx()
    try:
        # infer on a copy whose initializers are declared inputs without data: no weight copying
        light = onnx.ModelProto()
        light.opset_import.extend(proto.opset_import)
        light.ir_version = proto.ir_version
        g = light.graph
        g.node.extend(proto.graph.node)
        g.input.extend(proto.graph.input)
        g.output.extend(proto.graph.output)
        declared = {v.name for v in proto.graph.input}
        for t in proto.graph.initializer:
            if t.name not in declared:
                g.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        small = [t for t in proto.graph.initializer if int(np.prod(t.dims)) <= 64]
        g.initializer.extend(small)  # shape-like constants let inference see through Reshape
        inferred = onnx.shape_inference.infer_shapes(light)
    except Exception:  # shape inference is a help for the optimizer, never a requirement
        return {}
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
    return shapes


def check_supported(graph: Graph) -> None:
    first: dict[str, Node] = {}
    for n in graph.nodes:
        sub = any(isinstance(v, _Subgraph) for v in n.attrs.values())
        if n.domain not in ("", "ai.onnx") or n.op not in OPS or sub:
            first.setdefault(n.op if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op}", n)
    if first:
        listing = "; ".join(f"{op} (first used by node {n.name!r} -> {n.outputs[:1]})" for op, n in first.items())
        raise NotImplementedError(f"the model uses {len(first)} operator type(s) fastconv does not support: {listing}")


def toposort(graph: Graph) -> list[Node]:
    """Nodes in an order where every input is ready; errors on unknown values, duplicates and cycles."""
    available = set(graph.constants) | {v.name for v in graph.inputs} | {""}
    producer: dict[str, int] = {}
    for i, n in enumerate(graph.nodes):
        for o in n.outputs:
            if not o:
                continue
            if o in producer or o in available:
                raise OnnxLoadError(f"value {o!r} is produced twice (by {n.label()} and an earlier node or input)")
            producer[o] = i
    for n in graph.nodes:
        for i in n.inputs:
            if i not in available and i not in producer:
                raise OnnxLoadError(f"{n.label()} reads {i!r}, which is neither a graph input, an initializer nor "
                                    "the output of a node (missing initializer?)")
    for o in graph.outputs:
        if o.name not in available and o.name not in producer:
            raise OnnxLoadError(f"graph output {o.name!r} is not produced by any node, input or initializer")
    # Kahn's algorithm, stable with respect to the file's order.
    pending = [sum(1 for i in set(n.inputs) if i in producer) for n in graph.nodes]
    users: dict[int, list[int]] = {}
    for j, n in enumerate(graph.nodes):
        for i in set(n.inputs):
            if i in producer:
                users.setdefault(producer[i], []).append(j)
    import heapq
    ready = [j for j, c in enumerate(pending) if c == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        j = heapq.heappop(ready)
        order.append(graph.nodes[j])
        for u in users.get(j, ()):
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(graph.nodes):
        stuck = [graph.nodes[j].label() for j, c in enumerate(pending) if c > 0]
        raise OnnxLoadError(f"the graph has a cycle: {len(stuck)} nodes can never run, e.g. {', '.join(stuck[:3])}")
    return order

"""Exports a fastconv Model to an ONNX file (benchmarks only: the peer runs the very same architecture
and weights). The graph is fastconv.onnx._from_model's, the one a Model itself runs on the CPU: one
node per layer, as an exporter from a framework would write it."""
from __future__ import annotations

import onnx
from onnx import TensorProto, helper, numpy_helper

from fastconv.onnx._from_model import OPSET, model_graph


def to_onnx(model) -> onnx.ModelProto:
    g = model_graph(model)
    nodes = [helper.make_node(n.op, n.inputs, n.outputs, name=n.name, **n.attrs) for n in g.nodes]
    inits = [numpy_helper.from_array(v, k) for k, v in g.constants.items()]
    inputs = [helper.make_tensor_value_info(v.name, TensorProto.FLOAT, list(v.shape)) for v in g.inputs]
    outputs = [helper.make_tensor_value_info(v.name, TensorProto.FLOAT, list(v.shape)) for v in g.outputs]
    graph = helper.make_graph(nodes, model.name, inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fastconv-bench")

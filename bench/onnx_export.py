"""Exports a fastconv Model to an ONNX graph with onnx.helper (benchmarks only: the peer runs the
very same architecture and weights). One node per layer, as an exporter from a framework would."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fastconv.layers import (LRN, Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense,
                             Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, MaxPooling2D,
                             PReLU, Softmax)

OPSET = 17


def _act_nodes(spec, src, dst, inits, prefix):
    """Nodes computing activation `spec` (None, name or (name, *params)) from src into dst."""
    if spec is None:
        return [helper.make_node("Identity", [src], [dst])]
    kind, *p = (spec,) if isinstance(spec, str) else tuple(spec)
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus", "hard_swish": "HardSwish"}
    if kind in simple:
        return [helper.make_node(simple[kind], [src], [dst])]
    if kind in ("relu6", "clip"):
        lo, hi = (0.0, 6.0) if kind == "relu6" else (p[0], p[1])
        inits += [numpy_helper.from_array(np.array(lo, np.float32), prefix + "_min"),
                  numpy_helper.from_array(np.array(hi, np.float32), prefix + "_max")]
        return [helper.make_node("Clip", [src, prefix + "_min", prefix + "_max"], [dst])]
    if kind == "leaky_relu":
        return [helper.make_node("LeakyRelu", [src], [dst], alpha=p[0] if p else 0.01)]
    if kind == "elu":
        return [helper.make_node("Elu", [src], [dst], alpha=p[0] if p else 1.0)]
    if kind == "hard_sigmoid":
        return [helper.make_node("HardSigmoid", [src], [dst], alpha=p[0] if p else 0.2, beta=p[1] if len(p) > 1 else 0.5)]
    if kind == "silu":
        return [helper.make_node("Sigmoid", [src], [prefix + "_sig"]), helper.make_node("Mul", [src, prefix + "_sig"], [dst])]
    if kind == "softmax":
        return [helper.make_node("Softmax", [src], [dst], axis=1)]
    if kind == "log_softmax":
        return [helper.make_node("LogSoftmax", [src], [dst], axis=1)]
    raise ValueError(f"no ONNX export for activation {spec!r}")


def to_onnx(model) -> onnx.ModelProto:
    nodes, inits = [], []
    out_name = {}
    for t in model._nodes:
        layer, name = t.layer, t.layer.name
        ins = [out_name[id(s)] for s in t.inputs]
        y = name + "_out"
        out_name[id(t)] = y
        w = layer.weights
        if isinstance(layer, InputLayer):
            out_name[id(t)] = name
            continue
        if isinstance(layer, Conv2D):
            h, wd = layer.input_shapes[0][1:]
            inits.append(numpy_helper.from_array(w["weight"], name + "_W"))
            conv_in = ins + [name + "_W"]
            if "bias" in w:
                inits.append(numpy_helper.from_array(w["bias"], name + "_B"))
                conv_in.append(name + "_B")
            nodes.append(helper.make_node("Conv", conv_in, [name + "_conv"], kernel_shape=list(layer.kernel_size),
                                          strides=list(layer.strides), pads=list(layer.pads(h, wd)),
                                          dilations=list(layer.dilation), group=layer.groups))
            nodes += _act_nodes(layer.activation, name + "_conv", y, inits, name)
        elif isinstance(layer, Dense):
            inits.append(numpy_helper.from_array(w["weight"], name + "_W"))
            gin = ins + [name + "_W"]
            if "bias" in w:
                inits.append(numpy_helper.from_array(w["bias"], name + "_B"))
                gin.append(name + "_B")
            nodes.append(helper.make_node("Gemm", gin, [name + "_gemm"], transB=1))
            nodes += _act_nodes(layer.activation, name + "_gemm", y, inits, name)
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            attrs = dict(kernel_shape=list(layer.pool_size), strides=list(layer.strides), pads=list(layer.padding),
                         ceil_mode=int(layer.ceil_mode))
            if isinstance(layer, MaxPooling2D):
                nodes.append(helper.make_node("MaxPool", ins, [y], dilations=list(layer.dilation), **attrs))
            else:
                nodes.append(helper.make_node("AveragePool", ins, [y], count_include_pad=int(layer.count_include_pad),
                                              **attrs))
        elif isinstance(layer, (GlobalAveragePooling2D, GlobalMaxPooling2D)):
            op = "GlobalAveragePool" if isinstance(layer, GlobalAveragePooling2D) else "GlobalMaxPool"
            if layer.keepdims:
                nodes.append(helper.make_node(op, ins, [y]))
            else:
                nodes += [helper.make_node(op, ins, [name + "_g"]), helper.make_node("Flatten", [name + "_g"], [y], axis=1)]
        elif isinstance(layer, BatchNormalization):
            for k in ("gamma", "beta", "moving_mean", "moving_var"):
                inits.append(numpy_helper.from_array(w[k], f"{name}_{k}"))
            nodes.append(helper.make_node("BatchNormalization", ins + [f"{name}_{k}" for k in
                                                                        ("gamma", "beta", "moving_mean", "moving_var")],
                                          [y], epsilon=layer.epsilon))
        elif isinstance(layer, Activation):
            nodes += _act_nodes((layer.kind, *layer.params), ins[0], y, inits, name)
        elif isinstance(layer, PReLU):
            inits.append(numpy_helper.from_array(w["slope"].reshape(-1, 1, 1), name + "_slope"))
            nodes.append(helper.make_node("PRelu", ins + [name + "_slope"], [y]))
        elif isinstance(layer, Flatten):
            nodes.append(helper.make_node("Flatten", ins, [y], axis=1))
        elif isinstance(layer, Dropout):
            nodes.append(helper.make_node("Identity", ins, [y]))
        elif isinstance(layer, LRN):
            nodes.append(helper.make_node("LRN", ins, [y], size=layer.size, alpha=layer.alpha, beta=layer.beta,
                                          bias=layer.bias))
        elif isinstance(layer, Softmax):
            nodes.append(helper.make_node("Softmax", ins, [y], axis=layer.axis % len(t.shape) + 1))
        elif isinstance(layer, Add):
            acc = ins[0]
            for k, other in enumerate(ins[1:]):
                dst = name + f"_sum{k}"
                nodes.append(helper.make_node("Add", [acc, other], [dst]))
                acc = dst
            nodes += _act_nodes(layer.activation, acc, y, inits, name)
        elif isinstance(layer, Concatenate):
            nodes.append(helper.make_node("Concat", ins, [y], axis=layer.axis))
        else:
            raise ValueError(f"no ONNX export for {layer!r}")
    inputs = [helper.make_tensor_value_info(t.layer.name, TensorProto.FLOAT, ["N", *t.shape]) for t in model.inputs]
    outputs = [helper.make_tensor_value_info(out_name[id(t)], TensorProto.FLOAT, ["N", *t.shape]) for t in model.outputs]
    graph = helper.make_graph(nodes, model.name, inputs, outputs, inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fastconv-bench")
    return proto

"""A Keras-style Model (fastconv/model.py) as the session's own graph (_ir.Graph): one ONNX node per
layer, as a framework's exporter would write it. Model(...) on the CPU runs this graph through
InferenceSession, so its layers get the session's fusions, channel-blocked layout, memory plan and
recorded programs; bench/onnx_export.py writes the same graph as an .onnx file for the peers.
No onnx package is needed: nodes and constants are plain Python and numpy."""
from __future__ import annotations

import numpy as np

from ..layers import (LRN, Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout,
                      Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, MaxPooling2D, PReLU, Softmax)
from ._ir import Graph, Node, ValueInfo

OPSET = 17

_SIMPLE = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus", "hard_swish": "HardSwish"}


class _Builder:
    def __init__(self):
        self.nodes: list[Node] = []
        self.constants: dict[str, np.ndarray] = {}

    def const(self, name: str, value) -> str:
        a = np.asarray(value, dtype=np.float32)  # the layer's own array where it is already float32
        self.constants[name] = a if a.flags.c_contiguous else np.ascontiguousarray(a)
        return name

    def node(self, op: str, inputs, outputs, name: str, **attrs):
        self.nodes.append(Node(op, list(inputs), list(outputs), attrs, name))

    def activation(self, spec, src: str, dst: str, prefix: str):
        """Nodes computing activation `spec` (a name or (name, *params)) from src into dst."""
        kind, *p = (spec,) if isinstance(spec, str) else tuple(spec)
        if kind in _SIMPLE:
            return self.node(_SIMPLE[kind], [src], [dst], prefix)
        if kind in ("relu6", "clip"):
            lo, hi = (0.0, 6.0) if kind == "relu6" else (p[0], p[1])
            bounds = [self.const(prefix + "_min", lo), self.const(prefix + "_max", hi)]
            return self.node("Clip", [src, *bounds], [dst], prefix)
        if kind == "leaky_relu":
            return self.node("LeakyRelu", [src], [dst], prefix, alpha=float(p[0]) if p else 0.01)
        if kind == "elu":
            return self.node("Elu", [src], [dst], prefix, alpha=float(p[0]) if p else 1.0)
        if kind == "hard_sigmoid":
            return self.node("HardSigmoid", [src], [dst], prefix, alpha=float(p[0]) if p else 0.2,
                             beta=float(p[1]) if len(p) > 1 else 0.5)
        if kind == "silu":  # x * sigmoid(x): the optimizer fuses the pair back into one epilogue
            self.node("Sigmoid", [src], [prefix + "_sig"], prefix + "_sig")
            return self.node("Mul", [src, prefix + "_sig"], [dst], prefix)
        if kind == "softmax":
            return self.node("Softmax", [src], [dst], prefix, axis=1)
        if kind == "log_softmax":
            return self.node("LogSoftmax", [src], [dst], prefix, axis=1)
        raise ValueError(f"activation {spec!r} has no graph form")


def model_graph(model) -> Graph:
    """The graph of `model` (fastconv.Model): inputs named after their Input layers, batch axis 'N'."""
    b = _Builder()
    out_name: dict[int, str] = {}
    for t in model._nodes:
        layer, name = t.layer, t.layer.name
        if isinstance(layer, InputLayer):
            out_name[id(t)] = name
            continue
        ins = [out_name[id(s)] for s in t.inputs]
        y = out_name[id(t)] = name + "_out"
        w = layer.weights
        if isinstance(layer, (Conv2D, Dense)):
            args = ins + [b.const(name + "_W", w["weight"])]
            if "bias" in w:
                args.append(b.const(name + "_B", w["bias"]))
            z = y if layer.activation is None else name + "_z"  # the activation's input, if any
            if isinstance(layer, Conv2D):
                h, wd = layer.input_shapes[0][1:]
                b.node("Conv", args, [z], name, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
                       pads=list(layer.pads(h, wd)), dilations=list(layer.dilation), group=layer.groups)
            else:
                b.node("Gemm", args, [z], name, transB=1)
            if layer.activation is not None:
                b.activation(layer.activation, z, y, name + "_act")
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            attrs = dict(kernel_shape=list(layer.pool_size), strides=list(layer.strides), pads=list(layer.padding),
                         ceil_mode=int(layer.ceil_mode))
            if isinstance(layer, MaxPooling2D):
                b.node("MaxPool", ins, [y], name, dilations=list(layer.dilation), **attrs)
            else:
                b.node("AveragePool", ins, [y], name, count_include_pad=int(layer.count_include_pad), **attrs)
        elif isinstance(layer, (GlobalAveragePooling2D, GlobalMaxPooling2D)):
            op = "GlobalAveragePool" if isinstance(layer, GlobalAveragePooling2D) else "GlobalMaxPool"
            if layer.keepdims:
                b.node(op, ins, [y], name)
            else:
                b.node(op, ins, [name + "_g"], name)
                b.node("Flatten", [name + "_g"], [y], name + "_flat", axis=1)
        elif isinstance(layer, BatchNormalization):
            params = [b.const(f"{name}_{k}", w[k]) for k in ("gamma", "beta", "moving_mean", "moving_var")]
            b.node("BatchNormalization", ins + params, [y], name, epsilon=float(layer.epsilon))
        elif isinstance(layer, Activation):
            b.activation((layer.kind, *layer.params), ins[0], y, name)
        elif isinstance(layer, PReLU):
            b.node("PRelu", ins + [b.const(name + "_slope", w["slope"].reshape(-1, 1, 1))], [y], name)
        elif isinstance(layer, Flatten):
            b.node("Flatten", ins, [y], name, axis=1)
        elif isinstance(layer, Dropout):
            b.node("Identity", ins, [y], name)
        elif isinstance(layer, LRN):
            b.node("LRN", ins, [y], name, size=int(layer.size), alpha=float(layer.alpha), beta=float(layer.beta),
                   bias=float(layer.bias))
        elif isinstance(layer, Softmax):
            b.node("Softmax", ins, [y], name, axis=layer.axis % len(t.shape) + 1)
        elif isinstance(layer, Add):
            acc, last = ins[0], len(ins) - 2
            for k, other in enumerate(ins[1:]):
                dst = y if k == last and layer.activation is None else name + f"_sum{k}"
                b.node("Add", [acc, other], [dst], name if k == last else name + f"_sum{k}")
                acc = dst
            if layer.activation is not None:
                b.activation(layer.activation, acc, y, name + "_act")
        elif isinstance(layer, Concatenate):
            b.node("Concat", ins, [y], name, axis=layer.axis)
        else:
            raise ValueError(f"layer {layer!r} has no graph form")
    f32 = np.dtype(np.float32)
    inputs = [ValueInfo(t.layer.name, f32, ("N", *t.shape)) for t in model.inputs]
    outputs = [ValueInfo(out_name[id(t)], f32, ("N", *t.shape)) for t in model.outputs]
    return Graph(b.nodes, b.constants, inputs, outputs, OPSET)

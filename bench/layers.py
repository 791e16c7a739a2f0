"""The benchmark workload of issue 2, shared by bench_conv.py and test_bench_conv.py.

Each layer: NCHW input shape, OIHW weight shape, stride, padding, groups. GEMM shapes of a
layer are those of its im2col product per image and group: M = K/g, N = OH*OW, K = C/g*R*S.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layer:
    name: str
    x: tuple  # N, C, H, W
    w: tuple  # K, C/g, R, S
    stride: int = 1
    pad: int = 0
    groups: int = 1

    @property
    def out_hw(self):
        h = (self.x[2] + 2 * self.pad - self.w[2]) // self.stride + 1
        w = (self.x[3] + 2 * self.pad - self.w[3]) // self.stride + 1
        return h, w

    @property
    def flops(self) -> int:
        oh, ow = self.out_hw
        return 2 * self.x[0] * self.w[0] * oh * ow * self.w[1] * self.w[2] * self.w[3]

    @property
    def gemm_shape(self):
        oh, ow = self.out_hw
        return self.w[0] // self.groups, oh * ow, self.w[1] * self.w[2] * self.w[3]


LAYERS = [
    Layer("resnet50 3x3 56x56 64->64", (1, 64, 56, 56), (64, 64, 3, 3), 1, 1),
    Layer("resnet50 3x3 14x14 256->256", (1, 256, 14, 14), (256, 256, 3, 3), 1, 1),
    Layer("resnet50 1x1 56x56 64->256", (1, 64, 56, 56), (256, 64, 1, 1)),
    Layer("resnet50 1x1 7x7 512->2048", (1, 512, 7, 7), (2048, 512, 1, 1)),
    Layer("resnet50 7x7/2 224x224 3->64", (1, 3, 224, 224), (64, 3, 7, 7), 2, 3),
    Layer("vgg 3x3 224x224 64->64", (1, 64, 224, 224), (64, 64, 3, 3), 1, 1),
    Layer("vgg 3x3 28x28 512->512", (1, 512, 28, 28), (512, 512, 3, 3), 1, 1),
    Layer("alexnet 11x11/4 227x227 3->96", (1, 3, 227, 227), (96, 3, 11, 11), 4, 0),
    Layer("depthwise 3x3 112x112x32", (1, 32, 112, 112), (32, 1, 3, 3), 1, 1, 32),
    Layer("resnet50 3x3 56x56 64->64 batch 8", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1),
]

GEMM_SIZES = [256, 1024, 4096]


def onnx_conv_model(layer: Layer, weight, bias, relu: bool = False):
    """A one-node ONNX model computing the layer (then Relu, with relu), the given weights as initializers."""
    from onnx import TensorProto, helper, numpy_helper

    n, c, h, w = layer.x
    oh, ow = layer.out_hw
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c" if relu else "y"], kernel_shape=list(layer.w[2:]),
                              strides=[layer.stride] * 2, pads=[layer.pad] * 4, group=layer.groups)]
    if relu:
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
    graph = helper.make_graph(
        nodes, "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, layer.w[0], oh, ow])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def ort_session(model, threads: int):
    from fastconv import benchmark

    return benchmark.ort_session(model.SerializeToString(), threads)

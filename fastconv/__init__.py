"""fastconv: a convolution engine for CNN inference on numpy arrays.

    >>> import fastconv, numpy as np
    >>> y = fastconv.conv2d(x, w, bias, stride=1, padding=1, activation="relu")
"""
__version__ = "0.1.0"

from ._config import get_isa, get_num_threads, set_num_threads, show_config, use_isa, workers_held
from .conv import ConvPlan, autotune, conv2d
from .gemm import gemm
from .pooling import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d
from .normalization import batch_norm, fold_batch_norm, log_softmax, lrn, softmax
from . import layers, models
from .layers import Input
from .model import Model, Sequential, load
from .elementwise import (activation, add, clip, concat, elu, flatten, hard_sigmoid, hard_swish, leaky_relu, linear,
                          mul, prelu, relu, sigmoid, silu, softplus, tanh)
from . import metrics
from .classify import topk
from .preprocess import load_image, preprocess

__all__ = ["__version__", "show_config", "get_num_threads", "set_num_threads", "workers_held", "get_isa", "use_isa",
           "gemm", "conv2d", "ConvPlan", "autotune",
           "max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d", "batch_norm", "fold_batch_norm",
           "softmax", "log_softmax", "lrn", "activation", "relu", "leaky_relu", "prelu", "clip", "sigmoid",
           "hard_sigmoid", "hard_swish", "tanh", "silu", "elu", "softplus", "add", "mul", "concat", "flatten",
           "linear", "layers", "models", "Input", "Model", "Sequential", "load", "InferenceSession",
           "preprocess", "load_image", "topk", "metrics"]


def __getattr__(name):
    if name == "InferenceSession":  # ONNX import loads lazily: `import fastconv` works without onnx
        from .onnx import InferenceSession

        return InferenceSession
    raise AttributeError(f"module 'fastconv' has no attribute {name!r}")

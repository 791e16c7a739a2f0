"""fastconv: a convolution engine for CNN inference on numpy arrays.

    >>> import fastconv, numpy as np
    >>> y = fastconv.conv2d(x, w, bias, stride=1, padding=1, activation="relu")
"""
__version__ = "0.1.0"

from ._config import get_isa, get_num_threads, set_num_threads, show_config, use_isa
from .conv import ConvPlan, autotune, conv2d
from .gemm import gemm

__all__ = ["__version__", "show_config", "get_num_threads", "set_num_threads", "get_isa", "use_isa",
           "gemm", "conv2d", "ConvPlan", "autotune"]

"""The layer functions (pooling, normalization, activations, softmax, element-wise) that the ONNX ops
call on float32 tensors: fastconv's own kernels (`fastconv.max_pool2d` etc.). The numpy versions in
_numpy_layers.py, with the same signatures and ONNX semantics, run the cases those kernels do not take:
other dtypes (the ONNX tests run pooling and activations on float64/int8 too) and dilated average pooling.
"""
from __future__ import annotations

import numpy as np

import fastconv

from . import _numpy_layers

NAMES = ("max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d", "batch_norm", "activation",
         "softmax", "log_softmax", "lrn", "add", "mul", "concat", "prelu")


def get(name: str):
    fn = getattr(fastconv, name, None)
    return fn if fn is not None else getattr(_numpy_layers, name)


def native() -> dict[str, bool]:
    """Which layer functions come from fastconv's kernels (True) and which from the numpy stand-ins."""
    return {n: hasattr(fastconv, n) for n in NAMES}


def is_f32(*xs) -> bool:
    return all(isinstance(x, np.ndarray) and x.dtype == np.float32 for x in xs)

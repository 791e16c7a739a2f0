"""The layer functions (pooling, normalization, activations, softmax, element-wise) that the ONNX ops
call on float32 tensors: fastconv's own kernels (`fastconv.max_pool2d` etc.). The numpy versions in
_numpy_layers.py, with the same signatures and ONNX semantics, run the cases those kernels do not take:
other dtypes (the ONNX tests run pooling and activations on float64/int8 too) and dilated average pooling.
"""
from __future__ import annotations

import numpy as np

import fastconv


def get(name: str):
    """fastconv's layer function `name` (float32 kernels)."""
    return getattr(fastconv, name)


def is_f32(*xs) -> bool:
    return all(isinstance(x, np.ndarray) and x.dtype == np.float32 for x in xs)


def plain_f32(a) -> bool:
    """A float32, C-contiguous numpy array: what a session's recorded program reads and writes."""
    return type(a) is np.ndarray and a.dtype == np.float32 and a.flags.c_contiguous

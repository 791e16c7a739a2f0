"""fastconv.gemm: the engine's packed SGEMM with its fused epilogue, on numpy arrays."""
from __future__ import annotations

import numpy as np

from . import _C, _memory
from ._checks import activation as _activation
from ._checks import as_float32

__all__ = ["gemm"]


def _strided_float32(x, name):
    """Like as_float32 but keeps transposed/strided float32 views (the packer reads strides)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2 and all(s % 4 == 0 for s in x.strides):
        return x
    return as_float32(x, name, ndim=2)


def gemm(a, b, bias=None, activation=None, residual=None, *, bias_axis: int = 1, out=None) -> np.ndarray:
    """Returns activation(a @ b + bias + residual) as float32, computed by the packed SGEMM.

    a: (M, K), b: (K, N); transposed views (a.T) are read in place, without a copy.
    bias: (N,) added to every row (bias_axis=1, as a dense layer) or (M,) to every column (bias_axis=0).
    residual: (M, N) added before the activation. activation: see fastconv.conv2d.
    out: optional float32 C-contiguous (M, N) array to write into.
    """
    a = _strided_float32(a, "a")
    b = _strided_float32(b, "b")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"gemm: a has shape {a.shape} and b has shape {b.shape}; a.shape[1] must equal b.shape[0]")
    m, n = a.shape[0], b.shape[1]
    if bias_axis not in (0, 1):
        raise ValueError(f"bias_axis must be 0 (per row) or 1 (per column), got {bias_axis}")
    if bias is not None:
        bias = as_float32(bias, "bias", ndim=1)
        want = n if bias_axis == 1 else m
        if bias.shape[0] != want:
            raise ValueError(f"bias has {bias.shape[0]} values; with bias_axis={bias_axis} it needs {want}")
    if residual is not None:
        residual = as_float32(residual, "residual", ndim=2)
        if residual.shape != (m, n):
            raise ValueError(f"residual has shape {residual.shape}, expected {(m, n)}")
    if out is None:
        out = _memory.empty((m, n))
    kind, alpha, beta = _activation(activation)
    _C.gemm(a, b, out, bias, bias_axis == 1, residual, kind, alpha, beta)
    return out

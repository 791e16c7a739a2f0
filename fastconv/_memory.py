"""Output buffers for the kernels: C-contiguous and 64-byte aligned.

numpy aligns large arrays to 16 bytes only. The kernels read and write 64-byte vectors
along rows; from a buffer 16 bytes off a cache line, every such access spans two lines,
and loads that do so cost (ResNet's 64->256 1x1 conv with its residual add, 56x56:
1.5 ms with the residual aligned, 1.9-2.0 ms without). So every array the engine
allocates for a kernel to write comes from here.
"""
from __future__ import annotations

import math

import numpy as np

ALIGNMENT = 64  # bytes: one cache line, one AVX-512 vector


def empty(shape, dtype=np.float32) -> np.ndarray:
    """np.empty(shape, dtype), C-contiguous, its first element on an ALIGNMENT-byte boundary."""
    dtype = np.dtype(dtype)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGNMENT, np.uint8)
    # __array_interface__, not .ctypes: building the ctypes view costs ~8 us a call
    start = -raw.__array_interface__["data"][0] % ALIGNMENT
    return raw[start:start + nbytes].view(dtype).reshape(shape)

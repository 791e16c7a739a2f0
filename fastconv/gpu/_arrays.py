"""Argument checks for GPU arrays, the same dtype rule as fastconv/_checks.py, plus the device:
float32 is used as it is, float16/float64 are converted, other dtypes are refused; non-contiguous
arrays are copied once; numpy (host) inputs are uploaded; arrays on another GPU are refused."""
from __future__ import annotations

import numpy as np

from . import _geometry
from ._backend import require_device

NULL = np.uint64(0)   # a null pointer argument for RawKernel (optional bias/residual/scale)


def ptr(a):
    return NULL if a is None else a


def current_device() -> int:
    return require_device().cuda.Device().id


def as_gpu_float32(x, name: str, ndim=None, device: int | None = None):
    """x as a C-contiguous float32 cupy array on `device` (default: the current CuPy device)."""
    cp = require_device()
    device = cp.cuda.Device().id if device is None else device
    if not isinstance(x, cp.ndarray):
        if hasattr(x, "__cuda_array_interface__"):   # torch tensors, numba arrays: zero-copy view
            x = cp.asarray(x)
        else:                                         # host data: checked like the CPU path, then uploaded
            x = np.asarray(x)
            if not np.issubdtype(x.dtype, np.floating):
                raise TypeError(f"{name} must be a floating-point array (float32 preferred), got dtype {x.dtype}")
            with cp.cuda.Device(device):
                x = cp.asarray(x, dtype=cp.float32)
    if x.device.id != device:
        raise ValueError(f"{name} is on GPU {x.device.id}, but this operation runs on GPU {device}; copy it with "
                         f"`with cupy.cuda.Device({device}): {name} = cupy.asarray({name})`")
    if x.dtype != cp.float32:
        if x.dtype.kind != "f":
            raise TypeError(f"{name} must be a floating-point array (float32 preferred), got dtype {x.dtype}")
        x = x.astype(cp.float32)
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in dims:
            want = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{name} must be {want}, got {x.ndim}-D array of shape {x.shape}")
    _geometry.check_dims(x.shape, name)
    with cp.cuda.Device(device):
        return cp.ascontiguousarray(x)


def check_out(out, shape, device: int):
    """`out` must already be what the kernels write: a C-contiguous float32 cupy array of `shape`
    on `device` (converting it would write somewhere the caller does not look)."""
    cp = require_device()
    if not isinstance(out, cp.ndarray):
        raise TypeError(f"out must be a cupy.ndarray, got {type(out).__name__}")
    if out.dtype != cp.float32:
        raise TypeError(f"out has dtype {out.dtype}, expected float32")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out has shape {tuple(out.shape)}, expected {tuple(shape)}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if out.device.id != device:
        raise ValueError(f"out is on GPU {out.device.id}, but this operation runs on GPU {device}")
    return out


def output(out, shape, device: int):
    if out is None:
        cp = require_device()
        with cp.cuda.Device(device):
            return cp.empty(shape, dtype=cp.float32)
    return check_out(out, shape, device)

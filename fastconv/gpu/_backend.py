"""CuPy, imported lazily, and the CUDA kernels of fastconv/gpu/kernels loaded through cupy.RawModule.

Nothing here runs at `import fastconv` or `import fastconv.gpu`: CuPy is imported on the first
GPU call, so the CPU package never needs it.
"""
from __future__ import annotations

import functools
import pathlib
import re
import sys

KERNEL_DIR = pathlib.Path(__file__).parent / "kernels"
# Every kernel source, by file name; NVRTC options shared by the runtime and the compile tests.
KERNEL_FILES = ("epilogue.cu", "im2col.cu", "winograd.cu", "dwconv.cu", "pool.cu", "softmax.cu", "lrn.cu")
NVRTC_OPTIONS = ("--std=c++14",)

INSTALL_HINT = "install a CUDA build of CuPy with `pip install fastconv[gpu]` (and have an NVIDIA driver)"


def cupy():
    """The cupy module, or ImportError saying how to get it."""
    try:
        import cupy as cp
    except ImportError as e:
        raise ImportError(f"fastconv.gpu needs CuPy, which is not importable ({e}); {INSTALL_HINT}") from e
    return cp


_READY = None   # the cupy module once a device was found: later calls skip the driver query


def require_device():
    """The cupy module after checking that a CUDA device and driver are usable."""
    global _READY
    if _READY is not None and sys.modules.get("cupy") is _READY:
        return _READY
    cp = cupy()
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError: no driver, or a driver older than CuPy's runtime
        raise ImportError(f"fastconv.gpu found CuPy but no usable CUDA driver ({e}); {INSTALL_HINT}") from e
    if count == 0:
        raise ImportError(f"fastconv.gpu found no CUDA device; {INSTALL_HINT}")
    _READY = cp
    return cp


def is_available() -> bool:
    """True when CuPy imports and a CUDA device is present (never raises)."""
    try:
        require_device()
        return True
    except ImportError:
        return False


_INCLUDE = re.compile(r'^#include "([\w.]+)"$', re.M)


def kernel_source(name: str) -> str:
    """The source of kernels/<name> with its local includes inlined (NVRTC gets one self-contained
    string; the compile tests feed the very same text to nvcc)."""
    text = (KERNEL_DIR / name).read_text()
    return _INCLUDE.sub(lambda m: (KERNEL_DIR / m.group(1)).read_text().replace("#pragma once\n", ""), text)


@functools.lru_cache(maxsize=None)
def _module(name: str, device_id: int):
    cp = require_device()
    with cp.cuda.Device(device_id):
        return cp.RawModule(code=kernel_source(name), options=NVRTC_OPTIONS)


@functools.lru_cache(maxsize=None)
def _function(name: str, function: str, device_id: int):
    return _module(name, device_id).get_function(function)


def kernel(name: str, function: str):
    """The RawKernel `function` of kernels/<name>, compiled once per device (CuPy also caches the
    binary on disk, so later processes skip NVRTC). Looked up on every launch, so it is cheap:
    a dict hit after the first call."""
    cp = require_device()
    return _function(name, function, cp.cuda.runtime.getDevice())


def clear_caches():
    """Forget compiled modules and the found device (tests that swap the cupy module use this)."""
    global _READY
    _READY = None
    _function.cache_clear()
    _module.cache_clear()

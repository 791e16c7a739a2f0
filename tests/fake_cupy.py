"""A stand-in for CuPy on machines without a GPU, so the whole fastconv.gpu Python path (plans,
chunking, argument order of every launch, layers) runs in tests: arrays are numpy arrays (a
subclass with .device/.data.ptr/.get()), cuBLAS is numpy.matmul, and each RawModule is the CUDA
source compiled as C++ with tests/cuda_host_shim.h (one thread walks every grid-stride loop).

Used by tests/gpu when FASTCONV_GPU_EMULATE=1 and no real GPU is present (see tests/gpu/conftest.py).
"""
from __future__ import annotations

import ctypes
import hashlib
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import types

import numpy as np

SHIM = pathlib.Path(__file__).with_name("cuda_host_shim.h")
_BUILD = pathlib.Path(tempfile.mkdtemp(prefix="fake_cupy_"))


class ndarray(np.ndarray):
    """numpy memory posing as device memory: the attributes fastconv.gpu reads from cupy arrays."""

    _device_id = 0   # tests set it on an array to pose as memory on another GPU

    def __array_finalize__(self, obj):
        self._device_id = getattr(obj, "_device_id", 0)

    @property
    def device(self):
        return _Device(self._device_id)

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.__array_interface__["data"][0])

    def get(self):
        return np.array(self)


def _wrap(a, like=None):
    """a as a fake device array, on the device of `like` (CuPy keeps results where inputs live)."""
    out = np.asarray(a).view(ndarray)
    out._device_id = getattr(like, "_device_id", 0)
    return out


class _Device:
    def __init__(self, id=0):
        self.id = id

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


float32, float64, int32, int64 = np.float32, np.float64, np.int32, np.int64
asarray = lambda a, dtype=None: _wrap(np.array(a, dtype=dtype, copy=True) if not isinstance(a, ndarray)  # noqa: E731
                                      else np.asarray(a, dtype=dtype))
empty = lambda shape, dtype=np.float32: _wrap(np.empty(shape, dtype))  # noqa: E731
full = lambda shape, v, dtype=np.float32: _wrap(np.full(shape, v, dtype))  # noqa: E731
zeros = lambda shape, dtype=np.float32: _wrap(np.zeros(shape, dtype))  # noqa: E731
ascontiguousarray = lambda a: _wrap(np.ascontiguousarray(a), like=a)  # noqa: E731


def matmul(a, b, out=None):
    return _wrap(np.matmul(a, b, out=out))


def __getattr__(name):   # einsum, sqrt, ... : numpy's
    return getattr(np, name)


def _ctype(v):
    if isinstance(v, np.ndarray):
        assert v.flags.c_contiguous, "kernel argument is not contiguous"
        return ctypes.c_void_p(v.__array_interface__["data"][0])
    if isinstance(v, np.uint64):
        return ctypes.c_void_p(int(v))
    if isinstance(v, np.int32):
        return ctypes.c_int(int(v))
    if isinstance(v, np.int64):
        return ctypes.c_longlong(int(v))
    if isinstance(v, np.float32):
        return ctypes.c_float(float(v))
    raise TypeError(f"kernel argument of type {type(v).__name__}: CuPy would guess its C type; pass a numpy scalar")


class RawModule:
    def __init__(self, code, options=()):
        so = _BUILD / (hashlib.sha1(code.encode()).hexdigest() + ".so")
        if not so.exists():
            src = so.with_suffix(".cc")
            src.write_text(code)
            cxx = shutil.which("g++") or shutil.which("c++")
            subprocess.run([cxx, "-std=c++14", "-O1", "-shared", "-fPIC", "-include", str(SHIM), str(src), "-o",
                            str(so)], check=True)
        self._lib = ctypes.CDLL(str(so))

    def get_function(self, name):
        fn = getattr(self._lib, name)

        def launch(grid, block, args, shared_mem=0):
            assert len(grid) >= 1 and 1 <= grid[0] < 2**31 and 1 <= block[0] <= 1024, (grid, block)
            fn(*[_ctype(a) for a in args])
        return launch


class _Event:
    """Host timestamps: launches here finish before they return."""

    def record(self, stream=None):
        self.t = time.perf_counter()

    def synchronize(self):
        pass


cuda = types.SimpleNamespace(
    Device=_Device,
    Event=_Event,
    get_elapsed_time=lambda a, b: 1e3 * (b.t - a.t),
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, runtimeGetVersion=lambda: 0,
                                  getDeviceProperties=lambda i: {"name": b"fake_cupy (CPU emulation)"}),
)
copyto = np.copyto
empty_like = lambda a: _wrap(np.empty_like(a))  # noqa: E731
__version__ = "fake"

_linalg = types.SimpleNamespace(COMPUTE_TYPE_TF32=7, COMPUTE_TYPE_FP32=3, _state={"f32": 0})
_linalg.get_compute_type = lambda dtype: _linalg._state["f32"]
_linalg.set_compute_type = lambda dtype, t: _linalg._state.__setitem__("f32", t)


def install(monkeypatch_setitem):
    """Puts this module in sys.modules as `cupy` (with cupy._core._routines_linalg)."""
    me = sys.modules[__name__]
    core = types.SimpleNamespace(_routines_linalg=_linalg)
    monkeypatch_setitem(sys.modules, "cupy", me)
    monkeypatch_setitem(sys.modules, "cupy._core", core)
    monkeypatch_setitem(sys.modules, "cupy._core._routines_linalg", _linalg)
    me._core = core

"""A stand-in for CuPy on machines without a GPU, so the whole fastconv.gpu Python path (plans,
chunking, argument order of every launch and GEMM, layers) runs in tests: arrays are numpy arrays
(a subclass with .device/.data.ptr/.get()), cublasGemmStridedBatchedEx is emulated from its
column-major specification (TF32 rounding included), and each RawModule is the CUDA
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
import threading
import time
import types

import numpy as np

SHIM = pathlib.Path(__file__).with_name("cuda_host_shim.h")
_BUILD = pathlib.Path(tempfile.mkdtemp(prefix="fake_cupy_"))
_COMPILE_LOCK = threading.Lock()


try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:            # numpy < 2
    byte_bounds = np.byte_bounds
_ALLOCATIONS = {}              # start address -> end: the memory of every fake device array


class ndarray(np.ndarray):
    """numpy memory posing as device memory: the attributes fastconv.gpu reads from cupy arrays."""

    _device_id = 0   # tests set it on an array to pose as memory on another GPU

    def __array_finalize__(self, obj):
        self._device_id = getattr(obj, "_device_id", 0)
        if self.size:
            lo, hi = byte_bounds(self)
            _ALLOCATIONS[lo] = max(hi, _ALLOCATIONS.get(lo, hi))

    @property
    def device(self):
        return _Device(self._device_id)

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.__array_interface__["data"][0])

    def get(self):
        return np.array(self)

    @property
    def __cuda_array_interface__(self):   # what fastconv's device dispatch looks for
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.data.ptr, False), "version": 3}


def _check_inside_an_array(lo, hi, what):
    """What an illegal address would be on the GPU: a clean failure here instead of a segfault."""
    if not any(a <= lo and hi <= b for a, b in list(_ALLOCATIONS.items())):  # threads add entries
        raise AssertionError(f"{what} [{lo:#x}, {hi:#x}) is outside every array")


def _wrap(a, like=None):
    """a as a fake device array, on the device of `like` (CuPy keeps results where inputs live)."""
    out = np.asarray(a).view(ndarray)
    out._device_id = getattr(like, "_device_id", 0)
    return out


class _Device:
    compute_capability = "90"

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
# numpy's versions would hand back host arrays; CuPy's results stay on the device
concatenate = lambda arrays, axis=0: _wrap(np.concatenate([np.asarray(a) for a in arrays], axis=axis),  # noqa: E731
                                           like=arrays[0])
where = lambda cond, a, b: _wrap(np.where(np.asarray(cond), np.asarray(a), np.asarray(b)), like=a)  # noqa: E731


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
        with _COMPILE_LOCK:   # plans may be built from several threads
            if not so.exists():
                src = so.with_suffix(".cc")
                src.write_text(code)
                cxx = shutil.which("g++") or shutil.which("c++")
                subprocess.run([cxx, "-std=c++14", "-O1", "-shared", "-fPIC", "-include", str(SHIM), str(src),
                                "-o", str(so)], check=True)
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
    device=types.SimpleNamespace(get_cublas_handle=lambda: 1),
    Event=_Event,
    get_elapsed_time=lambda a, b: 1e3 * (b.t - a.t),
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0, runtimeGetVersion=lambda: 0,
                                  getDeviceProperties=lambda i: {"name": b"fake_cupy (CPU emulation)"}),
)
copyto = np.copyto
empty_like = lambda a: _wrap(np.empty_like(a))  # noqa: E731
__version__ = "fake"

def _col_major(ptr, rows, cols, ld):
    """The rows x cols column-major float32 matrix at address ptr with leading dimension ld."""
    assert ld >= max(1, rows), f"cuBLAS needs ld >= rows, got ld={ld}, rows={rows}"
    _check_inside_an_array(ptr, ptr + 4 * (ld * (cols - 1) + rows), "a GEMM operand")
    buf = (ctypes.c_float * (ld * (cols - 1) + rows)).from_address(ptr)
    return np.lib.stride_tricks.as_strided(np.frombuffer(buf, np.float32), (rows, cols), (4, 4 * ld))


def _tf32(x):
    """Rounds float32 to TF32 (10-bit mantissa), as tensor cores read their inputs."""
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32)
    return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)


def gemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB,
                         beta, C, Ctype, ldc, strideC, batchCount, computeType, algo):
    """cublasGemmStridedBatchedEx from its specification: column-major
    C[i] = alpha op(A[i]) op(B[i]) + beta C[i], strides in elements (C is not read when beta == 0)."""
    assert Atype == Btype == Ctype == 0 and computeType in (68, 77) and algo == -1 and batchCount >= 1
    al, be = ctypes.c_float.from_address(alpha).value, ctypes.c_float.from_address(beta).value
    for i in range(batchCount):
        a = _col_major(A + 4 * i * strideA, *((m, k) if transa == 0 else (k, m)), lda)
        b = _col_major(B + 4 * i * strideB, *((k, n) if transb == 0 else (n, k)), ldb)
        c = _col_major(C + 4 * i * strideC, m, n, ldc)
        a, b = (a if transa == 0 else a.T), (b if transb == 0 else b.T)
        if computeType == 77:
            a, b = _tf32(a), _tf32(b)
        prod = al * (a.astype(np.float64) @ b.astype(np.float64))
        c[...] = prod if be == 0 else prod + be * c


def install(monkeypatch_setitem):
    """Puts this module in sys.modules as `cupy`, with cupy_backends.cuda.libs.cublas."""
    monkeypatch_setitem(sys.modules, "cupy", sys.modules[__name__])
    cublas = types.SimpleNamespace(gemmStridedBatchedEx=gemmStridedBatchedEx)
    libs = types.SimpleNamespace(cublas=cublas)
    cuda_ns = types.SimpleNamespace(libs=libs)
    for name, mod in (("cupy_backends", types.SimpleNamespace(cuda=cuda_ns)), ("cupy_backends.cuda", cuda_ns),
                      ("cupy_backends.cuda.libs", libs), ("cupy_backends.cuda.libs.cublas", cublas)):
        monkeypatch_setitem(sys.modules, name, mod)

"""GPU tests: run on a machine with CuPy and a CUDA device, skipped (saying why) elsewhere.
Every GPU kernel is compared with the CPU engine (fastconv's C++ kernels) or float64 references
on the same random data: relative L2 error <= 1e-5 in FP32, <= 3e-3 with TF32 GEMMs.

FASTCONV_GPU_EMULATE=1 (used by tests/test_gpu_emulated.py) runs this suite without a GPU on
tests/fake_cupy.py: the same Python path and the CUDA sources compiled for the CPU; tests that
need real device features (streams, warp shuffles, device memory size) skip there."""
import os

import numpy as np
import pytest

from fastconv.gpu import _backend


def _why_unavailable():
    try:
        _backend.require_device()
    except ImportError as e:
        return f"no usable GPU: {e}"
    return None


EMULATED = _why_unavailable() is not None and os.environ.get("FASTCONV_GPU_EMULATE") == "1"


@pytest.fixture(scope="session")
def cp():
    if EMULATED:
        import fake_cupy
        with pytest.MonkeyPatch.context() as mp:
            fake_cupy.install(mp.setitem)
            _backend.clear_caches()
            yield fake_cupy
            _backend.clear_caches()
        return
    why = _why_unavailable()
    if why:
        pytest.skip(why)
    import cupy
    yield cupy


@pytest.fixture
def real_gpu(cp):
    """For tests of device features the CPU emulation does not have."""
    if EMULATED:
        pytest.skip("needs a real GPU (running under FASTCONV_GPU_EMULATE)")
    return cp


@pytest.fixture
def gpu_poisoned(cp):
    """An output buffer on the GPU full of NaN, so unwritten elements show."""
    return lambda shape: cp.full(shape, np.nan, dtype=cp.float32)

"""GPU tests: run on a machine with CuPy and a CUDA device, skipped (saying why) elsewhere.
Every GPU kernel is compared with the CPU engine (fastconv's C++ kernels) on the same random
data: relative L2 error <= 1e-5 in FP32, <= 3e-3 with TF32 GEMMs."""
import numpy as np
import pytest

from fastconv.gpu import _backend

RTOL_FP32 = 1e-5
RTOL_TF32 = 3e-3


def _why_unavailable():
    try:
        _backend.require_device()
    except ImportError as e:
        return f"no usable GPU: {e}"
    return None


@pytest.fixture(scope="session")
def cp():
    why = _why_unavailable()
    if why:
        pytest.skip(why)
    import cupy
    return cupy


@pytest.fixture
def gpu_poisoned(cp):
    """An output buffer on the GPU full of NaN, so unwritten elements show."""
    return lambda shape: cp.full(shape, np.nan, dtype=cp.float32)

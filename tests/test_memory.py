"""Buffers the engine allocates for kernels to write: aligned, contiguous, the right shape."""
import numpy as np
import pytest

import fastconv
from fastconv import _memory


@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 5), (2, 3, 7, 11), 13])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_empty_is_aligned_contiguous_and_shaped(shape, dtype):
    a = _memory.empty(shape, dtype)
    assert a.shape == np.empty(shape).shape and a.dtype == dtype
    assert a.flags.c_contiguous and a.flags.writeable
    assert a.size == 0 or a.ctypes.data % _memory.ALIGNMENT == 0  # an empty array has no data to align


def test_kernel_outputs_are_aligned(rng):
    x = rng.standard_normal((1, 3, 9, 9), dtype=np.float32)
    w = rng.standard_normal((5, 3, 3, 3), dtype=np.float32)
    outs = [fastconv.conv2d(x, w), fastconv.max_pool2d(x, 2), fastconv.relu(x),
            fastconv.gemm(x.reshape(27, 9), x.reshape(9, 27)), fastconv.concat([x, x])]
    for y in outs:
        assert y.ctypes.data % _memory.ALIGNMENT == 0

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


def _anon_huge_kib():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("AnonHugePages:"))


def _thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read().split("[")[1].split("]")[0]
    except (OSError, IndexError):
        return None


def test_large_weights_sit_on_huge_pages(rng):
    """A plan's packed weights of 2 MiB and more are advised for transparent huge pages
    (common/aligned.cc): a model streams every weight once per inference, and 4 KiB pages
    cost a TLB walk and a prefetcher restart each. Under THP mode "always" every large
    allocation gets huge pages, so this can only fail in mode "madvise" (it does with
    FASTCONV_HUGE_PAGES=0 there)."""
    mode = _thp_mode()
    if mode not in ("madvise", "always"):
        pytest.skip(f"this kernel offers no transparent huge pages (mode {mode!r})")
    w = rng.standard_normal((2048, 2048, 1, 1), dtype=np.float32)  # 16 MiB, packed once by the plan
    x = rng.standard_normal((1, 2048, 4, 4), dtype=np.float32)
    before = _anon_huge_kib()
    plan = fastconv.ConvPlan(w, algo="pointwise")
    y = plan(x)
    grown = _anon_huge_kib() - before  # while the plan (its packed weights) is alive
    ref = np.einsum("kc,nchw->nkhw", w[:, :, 0, 0].astype(np.float64), x.astype(np.float64))
    assert np.allclose(y, ref, rtol=1e-4, atol=1e-3)
    assert grown >= 4 << 10, f"AnonHugePages grew by {grown} KiB only (THP mode {mode})"

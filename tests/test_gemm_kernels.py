"""The GEMM driver's task paths and the edge tiles (csrc/gemm/, csrc/common/parallel.cc),
against a float64 product, every ISA level, outputs poisoned with NaN.

What each case reaches: column tasks with A packed once up front (wide N); row tasks
with B packed once and shared (narrow N); row tasks that pack B themselves (narrow N,
B too large to share); narrow edge tiles (N mod NR small); depth over several KC
blocks; the fused epilogue on every path; threads 1-3; calls from several Python
threads at once (the pool serves one, the others run on their own thread).
Error bound: |c - ref| <= 1.2 * (k + 2) * 2^-24 * (|a| @ |b| + |bias| + |res|).
"""
import threading

import numpy as np
import pytest

import fastconv
from conftest import KC_MAX, poisoned

U = 2.0 ** -24


def check(c, a, b, bias=None, res=None, relu=False):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ref, mag = a64 @ b64, np.abs(a64) @ np.abs(b64)
    if bias is not None:
        ref, mag = ref + bias, mag + np.abs(bias)
    if res is not None:
        ref, mag = ref + res, mag + np.abs(res)
    if relu:
        ref = np.maximum(ref, 0)
    assert np.all(np.isfinite(c)), "unwritten (NaN) outputs"
    bound = 1.2 * (a.shape[1] + 2) * U * mag + 1e-30
    err = np.abs(c - ref)
    assert np.all(err <= bound), f"max err {err.max():.3g}, worst ratio to bound {(err / bound).max():.3g}"


SHAPES = [
    (64, 3136, 70),    # wide N: column tasks, A packed once for all of them
    (300, 1000, 600),  # wide N, depth over several KC blocks (AVX2, generic), M not a multiple of MR
    (45, 300, KC_MAX + 700),  # depth over two KC blocks on every ISA
    (2048, 49, 300),   # narrow N: row tasks sharing one packed B
    (256, 196, 700),   # N = 6 * 32 + 4: the last panel runs the one-vector tile
    (97, 17, 33),      # N = 16 + 1, tiny: single-thread path
    (1500, 20, 3000),  # narrow N, row tasks
    (5, 4000, 9),      # M < MR, many column tasks
    (49, 2048, 300),   # M = 7 x 7: the 7-row tiles on AVX-512 (A packed per call), 16 k at a time
    (17, 700, 45),     # M = 2 x 7 + 3 there: the variant's edge tile
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shape", SHAPES)
def test_gemm_task_paths(isa, rng, shape, threads):
    m, n, k = shape
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    res = rng.standard_normal((m, n)).astype(np.float32)
    before = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(threads)
        c = fastconv.gemm(a, b, bias=bias, residual=res, activation="relu", out=poisoned((m, n)))
        check(c, a, b, bias, res, relu=True)
        at = np.asfortranarray(a)  # strided A through the up-front packer
        c2 = fastconv.gemm(at, b, out=poisoned((m, n)))
        check(c2, a, b)
    finally:
        fastconv.set_num_threads(before)


def test_gemm_narrow_b_too_large_to_share(rng):
    # k * 32 > 4 Mi floats: row tasks each pack the B blocks they need.
    m, n, k = 64, 20, 140000
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    check(fastconv.gemm(a, b, out=poisoned((m, n))), a, b)


def test_gemm_from_many_python_threads(rng):
    cases = []
    for i in range(6):
        m, n, k = 100 + 37 * i, 500 - 41 * i, 300 + 13 * i
        cases.append((rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)))
    results = [None] * len(cases)

    def work(i):
        a, b = cases[i]
        for _ in range(5):
            results[i] = fastconv.gemm(a, b, out=poisoned((a.shape[0], b.shape[1])))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (a, b), c in zip(cases, results):
        check(c, a, b)


def test_measure_fma_peak_is_plausible():
    # Not a timing assertion: it checks the probe runs and returns a finite positive rate
    # and rejects bad arguments with ValueError.
    from fastconv import _C
    g = _C.measure_fma_peak(0.05, 1)
    assert np.isfinite(g) and g > 0
    with pytest.raises(ValueError, match="seconds"):
        _C.measure_fma_peak(-1.0, 1)


def test_measure_core_latency_runs_and_restores_affinity():
    # Not a timing assertion: the probe returns a finite positive round trip when the process
    # may use two CPUs (0 otherwise), leaves the calling thread's CPU affinity as it was, and
    # rejects bad arguments with ValueError.
    import os
    from fastconv import _C, benchmark
    before = os.sched_getaffinity(0)
    ns = _C.measure_core_latency(0.02)
    assert os.sched_getaffinity(0) == before
    if len(before) >= 2:
        assert np.isfinite(ns) and ns > 0
        assert "ns before" in benchmark.core_latency_line(ns, ns)
    else:
        assert ns == 0 and benchmark.core_latency() is None
    with pytest.raises(ValueError, match="seconds"):
        _C.measure_core_latency(0.0)


@pytest.mark.parametrize("m,rows,mr", [(49, 49, 7), (35, 35, 7), (17, 18, 7), (196, 196, 8), (64, 64, 8), (3025, 3028, 8)])
def test_rows_variant_where_it_pads_fewer_rows(m, rows, mr):
    """AVX-512's 8x32 tile has a 7-row variant (same B panels) for products whose A is packed per
    call: taken only where it costs fewer tile rows, an edge tile counting at least 4 rows (gemm-config.cc)."""
    if "avx512" not in fastconv._C.available_isas():
        pytest.skip("the 7-row variant is AVX-512's; this CPU has no AVX-512")
    assert fastconv._C.gemm_padded_rows("avx512", m, True) == (rows, mr)
    assert fastconv._C.gemm_kernel("avx512", m) == f"f32-gemm-{mr}x32-avx512f"
    assert fastconv._C.gemm_padded_rows("avx512", m, False)[1] == 8  # weights packed once keep MR = 8
    for isa in ("avx2", "generic"):  # no variant: the level's own tile
        assert fastconv._C.gemm_kernel(isa, m) == fastconv._C.gemm_kernel(isa)

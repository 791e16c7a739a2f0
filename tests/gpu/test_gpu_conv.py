"""fastconv.gpu convolution vs the CPU engine: every algorithm, odd shapes, fused epilogue,
batch chunking, TF32 opt-in, streams, and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
import fastconv.gpu as fg
from fastconv.gpu import _geometry
from reference import rel_err as rel

RTOL = 1e-5

CASES = [  # (n, c, h, w, k, kh, kw, stride, padding, dilation, groups, algo)
    (1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, "winograd"),
    (2, 33, 13, 9, 40, 3, 3, 1, (0, 1, 2, 1), 1, 1, "winograd"),   # odd output size: half-outside tiles
    (1, 5, 1, 1, 7, 3, 3, 1, 1, 1, 1, "winograd"),                 # 1x1 image
    (3, 17, 10, 11, 19, 1, 1, 1, 0, 1, 1, "pointwise"),
    (2, 16, 8, 8, 32, 1, 1, 1, 0, 1, 4, "pointwise"),              # grouped 1x1
    (5, 300, 1, 1, 70, 1, 1, 1, 0, 1, 1, "pointwise"),             # fully connected: one GEMM
    (1, 3, 31, 29, 16, 7, 7, 2, 3, 1, 1, "im2col"),
    (2, 3, 35, 35, 8, 11, 11, 4, 0, 1, 1, "im2col"),
    (1, 12, 9, 10, 6, 3, 2, (2, 1), (1, 0, 0, 1), (2, 1), 3, "im2col"),
    (2, 8, 10, 10, 8, 3, 3, 1, 1, 1, 1, "im2col"),                 # winograd-eligible, forced im2col
    (2, 32, 15, 14, 32, 3, 3, 1, 1, 1, 32, "depthwise"),
    (1, 8, 9, 9, 16, 5, 5, 2, 2, 2, 8, "depthwise"),               # multiplier 2, dilated, strided
    (2, 7, 1, 1, 7, 3, 3, 1, 1, 1, 7, "depthwise"),
]


def _data(rng, case):
    n, c, h, w, k, kh, kw, _, _, _, groups, _ = case
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((k, c // groups, kh, kw)) / np.sqrt(c // groups * kh * kw)).astype(np.float32)
    return x, wt, rng.standard_normal(k).astype(np.float32)


@pytest.mark.parametrize("act", [None, "relu", ("leaky_relu", 0.1), "silu", ("clip", -0.5, 0.5)])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[-1]}-{c[:7]}")
def test_conv_matches_cpu_engine(cp, rng, gpu_poisoned, case, act):
    x, wt, b = _data(rng, case)
    _, _, _, _, _, _, _, stride, padding, dilation, groups, algo = case
    cpu = fastconv.ConvPlan(wt, b, stride, padding, dilation, groups, act)
    res = rng.standard_normal(cpu.output_shape(x.shape)).astype(np.float32)
    want = cpu(x, residual=res)
    plan = fg.ConvPlan(wt, b, stride, padding, dilation, groups, act, algo=algo)
    assert plan.algo == algo
    out = gpu_poisoned(want.shape)
    got = plan(cp.asarray(x), residual=cp.asarray(res), out=out)
    assert got is out
    assert rel(got.get(), want) <= RTOL


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[-1]}-{c[:7]}")
def test_auto_choice_is_correct_too(cp, rng, case):
    x, wt, b = _data(rng, case)
    _, _, _, _, _, _, _, stride, padding, dilation, groups, _ = case
    want = fastconv.conv2d(x, wt, b, stride, padding, dilation, groups)
    assert rel(fg.conv2d(cp.asarray(x), wt, b, stride, padding, dilation, groups).get(), want) <= RTOL


@given(n=st.integers(1, 3), cg=st.integers(1, 6), kg=st.integers(1, 6), groups=st.integers(1, 3),
       h=st.integers(1, 14), w=st.integers(1, 14), kh=st.integers(1, 4), kw=st.integers(1, 4),
       s=st.integers(1, 3), d=st.integers(1, 2), p=st.integers(0, 2), seed=st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_random_shapes_match_cpu_engine(cp, n, cg, kg, groups, h, w, kh, kw, s, d, p, seed):
    if h + 2 * p < d * (kh - 1) + 1 or w + 2 * p < d * (kw - 1) + 1:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, cg * groups, h, w)).astype(np.float32)
    wt = rng.standard_normal((kg * groups, cg, kh, kw)).astype(np.float32)
    want = fastconv.conv2d(x, wt, None, s, p, d, groups, "relu")
    assert rel(fg.conv2d(cp.asarray(x), wt, None, s, p, d, groups, "relu").get(), want) <= RTOL


def test_batch_chunks_give_the_same_result(cp, rng, monkeypatch):
    x = rng.standard_normal((5, 16, 12, 12)).astype(np.float32)
    wt = rng.standard_normal((24, 16, 3, 3)).astype(np.float32)
    want = fastconv.conv2d(x, wt, padding=1, activation="relu")
    monkeypatch.setattr(_geometry, "WORKSPACE_BYTES", 1)   # one image per chunk
    for algo in ("im2col", "winograd"):
        got = fg.ConvPlan(wt, padding=1, activation="relu", algo=algo)(cp.asarray(x))
        assert rel(got.get(), want) <= RTOL


def test_batch_norm_is_folded_into_the_plan(cp, rng):
    x = rng.standard_normal((2, 8, 9, 9)).astype(np.float32)
    wt = rng.standard_normal((12, 8, 3, 3)).astype(np.float32)
    gamma, beta, mean = (rng.standard_normal(12).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 2, 12).astype(np.float32)
    z = fastconv.conv2d(x, wt, padding=1).astype(np.float64)
    bn = lambda t: t.astype(np.float64)[None, :, None, None]
    want = np.maximum((z - bn(mean)) / np.sqrt(bn(var) + 1e-5) * bn(gamma) + bn(beta), 0)
    plan = fg.ConvPlan(wt, padding=1, activation="relu", batch_norm=(gamma, beta, mean, var, 1e-5))
    assert rel(plan(cp.asarray(x)).get(), want) <= RTOL


@pytest.mark.parametrize("algo, size", [("im2col", 16), ("pointwise", 16), ("pointwise", 1), ("winograd", 16)])
def test_tf32_is_opt_in(cp, rng, algo, size):
    """FP32 unless the plan opts in; with allow_tf32 the error is TF32's (and shows it was used)."""
    kh = 1 if algo == "pointwise" else 3
    x = rng.standard_normal((2, 64, size, size)).astype(np.float32)
    wt = rng.standard_normal((64, 64, kh, kh)).astype(np.float32)
    want = fastconv.conv2d(x, wt, padding=kh // 2)
    exact = fg.ConvPlan(wt, padding=kh // 2, algo=algo)(cp.asarray(x)).get()
    fast = fg.ConvPlan(wt, padding=kh // 2, algo=algo, allow_tf32=True)(cp.asarray(x)).get()
    assert rel(exact, want) <= RTOL
    assert rel(fast, want) <= 3e-3
    if int(cp.cuda.Device().compute_capability) >= 80:
        assert rel(fast, want) > 1e-5, "allow_tf32=True did not make cuBLAS use TF32"


def test_runs_on_the_current_stream_without_synchronising(real_gpu, rng):
    cp = real_gpu
    x = rng.standard_normal((2, 32, 20, 20)).astype(np.float32)
    plans = [fg.ConvPlan(rng.standard_normal((32, 32, 3, 3)).astype(np.float32), padding=1, algo=a)
             for a in ("im2col", "winograd")] + [fg.ConvPlan(rng.standard_normal((32, 1, 3, 3)).astype(np.float32),
                                                             padding=1, groups=32)]
    xd = cp.asarray(x)
    for p in plans:
        p(xd)   # warm up: compile kernels, fill the memory pool
    import cupyx
    stream = cp.cuda.Stream(non_blocking=True)
    with stream, cupyx.allow_synchronize(False):
        ys = [p(xd) for p in plans]
    stream.synchronize()
    for p, y in zip(plans, ys):
        want = fastconv.conv2d(x, p.weight.get(), padding=1, groups=p.groups)
        assert rel(y.get(), want) <= RTOL


# ---- bad input ------------------------------------------------------------------------------------

def test_bad_input_is_refused_clearly(cp, rng):
    wt = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    plan = fg.ConvPlan(wt, padding=1)
    with pytest.raises(TypeError, match="dtype int32"):
        plan(cp.zeros((1, 3, 5, 5), cp.int32))
    with pytest.raises(ValueError, match=r"x has 5 channels"):
        plan(cp.zeros((1, 5, 5, 5), cp.float32))
    with pytest.raises(ValueError, match="must be 4-D"):
        plan(cp.zeros((3, 5, 5), cp.float32))
    with pytest.raises(ValueError, match=r"out has shape"):
        plan(cp.zeros((1, 3, 5, 5), cp.float32), out=cp.empty((1, 4, 5, 6), cp.float32))
    with pytest.raises(TypeError, match="out has dtype float64"):
        plan(cp.zeros((1, 3, 5, 5), cp.float32), out=cp.empty((1, 4, 5, 5), cp.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        plan(cp.zeros((1, 3, 5, 5), cp.float32), out=cp.empty((1, 4, 5, 10), cp.float32)[..., ::2])
    with pytest.raises(ValueError, match="residual has shape"):
        plan(cp.zeros((1, 3, 5, 5), cp.float32), residual=cp.zeros((1, 4, 5, 4), cp.float32))
    with pytest.raises(ValueError, match="algo='winograd' cannot run"):
        fg.ConvPlan(wt, stride=2, algo="winograd")
    with pytest.raises(ValueError, match="unknown activation"):
        fg.ConvPlan(wt, activation="gelu2")


def test_float64_and_strided_inputs_are_converted(cp, rng):
    x = rng.standard_normal((1, 3, 8, 16))
    wt = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    want = fastconv.conv2d(x[..., ::2], wt, padding=1)
    got = fg.conv2d(cp.asarray(x)[..., ::2], wt, padding=1)
    assert got.dtype == cp.float32 and rel(got.get(), want) <= RTOL


def test_array_on_another_gpu_is_refused(real_gpu, rng):
    cp = real_gpu
    if cp.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs")
    wt = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    with cp.cuda.Device(0):
        plan = fg.ConvPlan(wt)
    with cp.cuda.Device(1):
        x1 = cp.zeros((1, 3, 5, 5), cp.float32)
    with pytest.raises(ValueError, match="x is on GPU 1, but this operation runs on GPU 0"):
        plan(x1)


def test_one_plan_from_several_threads(cp, rng):
    """Plans hold no per-call state (GEMM precision is an argument, scratch comes from CuPy's pool
    per call): several Python threads may run one plan at once, each on its own stream."""
    import threading
    wt = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    plans = {a: fg.ConvPlan(wt, padding=1, activation="relu", algo=a) for a in ("im2col", "winograd")}
    xs = [rng.standard_normal((2, 8, 11, 9)).astype(np.float32) for _ in range(4)]
    wants = [fastconv.conv2d(x, wt, padding=1, activation="relu") for x in xs]
    errors = []

    def work(i):
        try:
            stream = cp.cuda.Stream(non_blocking=True) if hasattr(cp.cuda, "Stream") else None
            for _ in range(3):
                for plan in plans.values():
                    if stream is not None:
                        with stream:
                            y = plan(cp.asarray(xs[i]))
                        stream.synchronize()
                    else:
                        y = plan(cp.asarray(xs[i]))
                    err = rel(y.get(), wants[i])
                    if err > RTOL:
                        errors.append((i, plan.algo, err))
        except Exception as e:  # surfaced below: an exception in a thread would otherwise be lost
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors

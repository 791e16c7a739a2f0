"""fastconv.conv2d / ConvPlan (csrc/conv/) against a float64 direct convolution, every ISA level.

Error bound: each output is a dot product of depth D = C/groups * kh * kw in fp32 plus the
bias and residual additions, so |y - ref| <= (D + 2) * u * (conv(|x|, |w|) + |bias| + |res|),
u = 2^-24 (recursive-summation forward bound), times the activation's Lipschitz constant.
"""
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastconv
from conftest import poisoned
from reference import activation_ref, conv2d_ref

U = 2.0 ** -24
fixture_ok = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_conv(y, x, w, bias=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1, residual=None,
               act=None, act_params=()):
    ref = conv2d_ref(x, w, bias, stride, pads, dilation, groups)
    mag = conv2d_ref(np.abs(x), np.abs(w), None if bias is None else np.abs(bias), stride, pads, dilation, groups)
    if residual is not None:
        ref = ref + residual
        mag = mag + np.abs(residual)
    ref = activation_ref(act, ref, *act_params)
    assert y.shape == ref.shape, f"shape {y.shape}, expected {ref.shape}"
    assert np.all(np.isfinite(y)), "unwritten (NaN) or non-finite outputs"
    depth = w.shape[1] * w.shape[2] * w.shape[3]
    bound = 1.2 * (depth + 2) * U * mag + 4e-7 * np.maximum(np.abs(ref), 1e-30)
    err = np.abs(y - ref)
    assert np.all(err <= bound), f"max err {err.max():.3g}, worst ratio to bound {(err / bound).max():.3g}"


conv_cases = st.fixed_dictionaries({
    "n": st.integers(1, 3), "cg": st.integers(1, 7), "kg": st.integers(1, 7), "groups": st.integers(1, 3),
    "h": st.integers(1, 13), "w": st.integers(1, 13), "kh": st.integers(1, 4), "kw": st.integers(1, 4),
    "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)), "dilation": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "pads": st.tuples(*[st.integers(0, 2)] * 4), "seed": st.integers(0, 2**32 - 1),
})


@fixture_ok
@given(case=conv_cases, algo=st.sampled_from(["auto", "im2col", "im2col_t", "implicit", "implicit_t", "direct"]))
def test_conv_random_layers(isa, case, algo):
    c = case
    pt, pl, pb, pr = c["pads"]
    assume(c["h"] + pt + pb >= c["dilation"][0] * (c["kh"] - 1) + 1)
    assume(c["w"] + pl + pr >= c["dilation"][1] * (c["kw"] - 1) + 1)
    rng = np.random.default_rng(c["seed"])
    g = 1 if algo == "direct" else c["groups"]  # direct has no groups (test_conv_direct.py: the error)
    x = rng.standard_normal((c["n"], c["cg"] * g, c["h"], c["w"])).astype(np.float32)
    w = rng.standard_normal((c["kg"] * g, c["cg"], c["kh"], c["kw"])).astype(np.float32)
    b = rng.standard_normal(c["kg"] * g).astype(np.float32)
    plan = fastconv.ConvPlan(w, b, c["stride"], c["pads"], c["dilation"], g, algo=algo)
    y = plan(x, out=poisoned(plan.output_shape(x.shape)))
    check_conv(y, x, w, b, c["stride"], c["pads"], c["dilation"], g)


@pytest.mark.parametrize("algo", ["auto", "im2col", "pointwise", "im2col_t", "pointwise_t"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (2, 17, 5, 7, 33), (1, 64, 7, 7, 130), (3, 3, 1, 40, 5)])
def test_conv_pointwise(isa, rng, algo, shape):
    n, c, h, w, k = shape
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((k, c, 1, 1)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    plan = fastconv.ConvPlan(wt, b, algo=algo)
    y = plan(x, out=poisoned((n, k, h, w)))
    assert plan.algo in ("pointwise", "pointwise_t", "direct") if algo == "auto" else plan.algo == algo
    check_conv(y, x, wt, b)


@pytest.mark.parametrize("algo", ["auto", "depthwise", "im2col"])
@pytest.mark.parametrize("layer", [
    dict(c=32, h=20, w=37, k=3, stride=1, pad=1, mult=1),
    dict(c=19, h=9, w=9, k=3, stride=2, pad=1, mult=1),
    dict(c=5, h=1, w=1, k=3, stride=1, pad=1, mult=2),
    dict(c=8, h=15, w=15, k=5, stride=2, pad=2, mult=1),
    dict(c=3, h=11, w=6, k=3, stride=1, pad=(0, 1, 2, 0), mult=3),
])
def test_conv_depthwise(isa, rng, algo, layer):
    c, m = layer["c"], layer["mult"]
    x = rng.standard_normal((2, c, layer["h"], layer["w"])).astype(np.float32)
    w = rng.standard_normal((c * m, 1, layer["k"], layer["k"])).astype(np.float32)
    b = rng.standard_normal(c * m).astype(np.float32)
    res_shape = fastconv.conv.conv_output_shape(x.shape, w.shape, layer["stride"], layer["pad"])
    res = rng.standard_normal(res_shape).astype(np.float32)
    plan = fastconv.ConvPlan(w, b, layer["stride"], layer["pad"], groups=c, activation="relu6", algo=algo)
    y = plan(x, residual=res, out=poisoned(res_shape))
    assert plan.algo == ("depthwise" if algo == "auto" else algo)
    pads = fastconv._checks.pads4(layer["pad"])
    check_conv(y, x, w, b, (layer["stride"],) * 2, pads, groups=c, residual=res, act="relu6")


@pytest.mark.parametrize("act", ["relu", ("leaky_relu", 0.2), ("clip", -1, 1), "sigmoid", "silu", "hard_swish", "tanh"])
def test_conv_fused_epilogue(isa, rng, act):
    x = rng.standard_normal((2, 6, 9, 8)).astype(np.float32)
    w = rng.standard_normal((10, 6, 3, 3)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    res = rng.standard_normal((2, 10, 9, 8)).astype(np.float32)
    y = fastconv.conv2d(x, w, b, padding=1, activation=act, residual=res)
    name, *params = (act,) if isinstance(act, str) else act
    check_conv(y, x, w, b, pads=(1, 1, 1, 1), residual=res, act=name, act_params=params)


@pytest.mark.parametrize("layer", [
    # (n, c, h, w, k, kernel, stride, pad): shapes of the benchmark layers, reduced where a float64 reference is slow
    (1, 64, 20, 20, 64, 3, 1, 1),
    (1, 3, 47, 47, 16, 7, 2, 3),
    (1, 3, 67, 67, 24, 11, 4, 0),
    (2, 37, 14, 14, 29, 3, 1, 1),
])
def test_conv_benchmark_like_layers(rng, layer):
    n, c, h, w, k, ks, s, p = layer
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((k, c, ks, ks)) * np.sqrt(2 / (c * ks * ks))).astype(np.float32)
    y = fastconv.conv2d(x, wt, stride=s, padding=p)
    check_conv(y, x, wt, stride=(s, s), pads=(p,) * 4)


def test_conv_non_contiguous_and_dtype_rule(rng):
    base = rng.standard_normal((2, 4, 20, 22))
    x = base[:, :, ::2, 1::2]  # float64, strided
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float16)
    y = fastconv.conv2d(x, w, padding=1)
    assert y.dtype == np.float32
    check_conv(y, x.astype(np.float32), w.astype(np.float32), pads=(1, 1, 1, 1))
    with pytest.raises(TypeError, match="int32"):
        fastconv.conv2d(np.ones((1, 4, 5, 5), np.int32), w)


def test_plan_is_reused_and_thread_safe(rng):
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    plan = fastconv.ConvPlan(w, padding=1, activation="relu")
    xs = [rng.standard_normal((2, 8, 13 + i % 3, 11)).astype(np.float32) for i in range(8)]
    expected = [plan(x) for x in xs]
    results = [None] * len(xs)

    def work(i):
        for _ in range(5):
            results[i] = plan(xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        assert np.array_equal(got, want)


def test_isa_levels_agree(rng):
    x = rng.standard_normal((1, 5, 16, 16)).astype(np.float32)
    w = rng.standard_normal((7, 5, 3, 3)).astype(np.float32)
    outs = {}
    for isa in fastconv._C.available_isas():
        with fastconv.use_isa(isa):
            outs[isa] = fastconv.conv2d(x, w, padding=1)
    for isa, y in outs.items():
        check_conv(y, x, w, pads=(1, 1, 1, 1))


X4 = np.ones((1, 3, 8, 8), np.float32)
W4 = np.ones((4, 3, 3, 3), np.float32)


@pytest.mark.parametrize("call, exc, message", [
    (lambda: fastconv.conv2d(X4[0], W4), ValueError, "x must be 4-D"),
    (lambda: fastconv.conv2d(X4, W4[0]), ValueError, "weight must be 4-D"),
    (lambda: fastconv.conv2d(np.ones((1, 4, 8, 8), np.float32), W4), ValueError, "x has 4 channels .* expects 3"),
    (lambda: fastconv.conv2d(np.ones((1, 5, 8, 8), np.float32), W4, groups=2), ValueError, "x has 5 channels .* groups=2 expects 6"),
    (lambda: fastconv.conv2d(np.ones((1, 6, 8, 8), np.float32), np.ones((3, 3, 3, 3), np.float32), groups=2),
     ValueError, "must divide the output channels"),
    (lambda: fastconv.conv2d(X4, np.ones((4, 3, 9, 9), np.float32)), ValueError, "larger than the padded input"),
    (lambda: fastconv.conv2d(X4, W4, dilation=4), ValueError, "larger than the padded input"),
    (lambda: fastconv.conv2d(X4, W4, stride=0), ValueError, "stride must be >= 1"),
    (lambda: fastconv.conv2d(X4, W4, dilation=(1, -1)), ValueError, "dilation must be >= 1"),
    (lambda: fastconv.conv2d(X4, W4, padding=-1), ValueError, "padding must be >= 0"),
    (lambda: fastconv.conv2d(X4, W4, padding=(1, 2, 3)), TypeError, "padding must be"),
    (lambda: fastconv.conv2d(X4, W4, bias=np.ones(3)), ValueError, "bias has 3 values"),
    (lambda: fastconv.conv2d(X4, W4, algo="fft"), ValueError, "unknown convolution algorithm 'fft'"),
    (lambda: fastconv.conv2d(X4, W4, algo="depthwise"), ValueError, "cannot run layer .* algorithms that can: im2col"),
    (lambda: fastconv.conv2d(X4, W4, algo="pointwise"), ValueError, "pointwise needs a 1x1 kernel"),
    (lambda: fastconv.conv2d(X4, W4, residual=np.ones((1, 4, 8, 8))), ValueError, "residual has shape"),
    (lambda: fastconv.conv2d(X4, W4, activation="swish!"), ValueError, "unknown activation"),
    (lambda: fastconv.conv2d(X4.astype(bool), W4), TypeError, "dtype bool"),
    (lambda: fastconv.conv2d(X4, W4, device="gpu"), ValueError, "device must be one of"),
])
def test_conv_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_cpp_side_validates_too():
    # The binding is reachable directly: it must refuse what the Python layer would.
    plan = fastconv._C.ConvPlan(W4, None, 3, (1, 1), (1, 1), (0, 0, 0, 0), 1, "none", 0.0, 0.0, "auto")
    with pytest.raises(ValueError, match="out has shape"):
        plan.run(X4, np.empty((1, 4, 8, 8), np.float32), None)
    with pytest.raises(ValueError, match="x has 4 channels"):
        plan.run(np.ones((1, 4, 8, 8), np.float32), np.empty((1, 4, 6, 6), np.float32), None)
    with pytest.raises(ValueError, match="x must be C-contiguous"):
        plan.run(np.ones((1, 3, 8, 16), np.float32)[..., ::2], np.empty((1, 4, 6, 6), np.float32), None)
    with pytest.raises(ValueError, match="float32"):
        plan.run(np.ones((1, 3, 8, 8)), np.empty((1, 4, 6, 6), np.float32), None)
    with pytest.raises(ValueError, match="larger than the padded input"):
        plan.run(np.ones((1, 3, 2, 2), np.float32), np.empty((1, 4, 1, 1), np.float32), None)
    with pytest.raises(ValueError, match="groups=2 must divide"):
        fastconv._C.ConvPlan(np.ones((3, 2, 1, 1), np.float32), None, 4, (1, 1), (1, 1), (0, 0, 0, 0), 2, "none", 0, 0,
                             "auto")

"""The depthwise kernels (csrc/conv/dwconv-plane.h) against a float64 direct convolution.

Covers what the kernel specialises on: the direct 3x3 plane (dwconv-3x3.h: 4-row tiles,
masked edge tiles, strides 1 and 2 each way, row bands), the 3x3 and 5x5 planes with taps
unrolled, the general plane (any kernel, and the scalar fallback past 256 taps), column
phases of strides 1-3, dilation, asymmetric padding, widths that are not multiples of the
vector width or of the 4-vector block, channel multipliers, residual and batch; every ISA
level; outputs poisoned with NaN. Error bound: as in test_conv.py (depth = kh * kw).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastconv
from conftest import poisoned
from test_conv import check_conv

fixture_ok = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def run_depthwise(x, w, b, stride, pads, dilation, res=None, act=None):
    c = x.shape[1]
    plan = fastconv.ConvPlan(w, b, stride, pads, dilation, groups=c, activation=act, algo="depthwise")
    y = plan(x, residual=res, out=poisoned(plan.output_shape(x.shape)))
    check_conv(y, x, w, b, stride, pads, dilation, groups=c, residual=res, act=act)


@fixture_ok
@given(case=st.fixed_dictionaries({
    "n": st.integers(1, 2), "c": st.integers(2, 4), "mult": st.integers(1, 2),
    "h": st.integers(1, 24), "w": st.integers(1, 90),
    "k": st.sampled_from([(3, 3), (5, 5), (1, 1), (2, 3), (3, 1), (7, 7), (4, 6)]),
    "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)), "dilation": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "pads": st.tuples(*[st.integers(0, 3)] * 4), "residual": st.booleans(), "seed": st.integers(0, 2**32 - 1),
}))
def test_depthwise_random_layers(isa, case):
    c = case
    (kh, kw), (dh, dw) = c["k"], c["dilation"]
    pt, pl, pb, pr = c["pads"]
    assume(c["h"] + pt + pb >= dh * (kh - 1) + 1 and c["w"] + pl + pr >= dw * (kw - 1) + 1)
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["n"], c["c"], c["h"], c["w"])).astype(np.float32)
    w = rng.standard_normal((c["c"] * c["mult"], 1, kh, kw)).astype(np.float32)
    b = rng.standard_normal(c["c"] * c["mult"]).astype(np.float32)
    shape = fastconv.conv.conv_output_shape(x.shape, w.shape, c["stride"], c["pads"], c["dilation"])
    res = rng.standard_normal(shape).astype(np.float32) if c["residual"] else None
    run_depthwise(x, w, b, c["stride"], c["pads"], c["dilation"], res)


@pytest.mark.parametrize("layer", [
    # (c, h, w, k, stride, pad): MobileNet-like planes whose widths fill several 4-vector blocks
    (8, 112, 112, 3, 1, 1), (4, 57, 113, 3, 2, 1), (3, 29, 70, 5, 1, 2), (5, 30, 65, 5, 2, 2), (2, 9, 200, 3, 3, 0),
])
def test_depthwise_wide_planes(isa, rng, layer):
    c, h, w_, k, s, p = layer
    x = rng.standard_normal((2, c, h, w_)).astype(np.float32)
    w = rng.standard_normal((c, 1, k, k)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    run_depthwise(x, w, b, (s, s), (p, p, p, p), (1, 1), act="relu")


@fixture_ok
@given(case=st.fixed_dictionaries({
    "n": st.integers(1, 3), "c": st.integers(2, 5), "h": st.integers(1, 13), "w": st.integers(1, 75),
    "stride": st.tuples(st.integers(1, 2), st.integers(1, 2)), "pads": st.tuples(*[st.integers(0, 3)] * 4),
    "residual": st.booleans(), "act": st.sampled_from([None, "relu", "sigmoid"]), "seed": st.integers(0, 2**32 - 1),
}))
def test_depthwise_3x3_direct(isa, case):
    # The direct 3x3 plane: images smaller than a tile (1x1, 2x2, H < 4 rows), widths around
    # the edge tiles and the 16/32-column interior tiles, padding wider than the kernel reach.
    c = case
    pt, pl, pb, pr = c["pads"]
    assume(c["h"] + pt + pb >= 3 and c["w"] + pl + pr >= 3)
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["n"], c["c"], c["h"], c["w"])).astype(np.float32)
    w = rng.standard_normal((c["c"], 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(c["c"]).astype(np.float32)
    shape = fastconv.conv.conv_output_shape(x.shape, w.shape, c["stride"], c["pads"], (1, 1))
    res = rng.standard_normal(shape).astype(np.float32) if c["residual"] else None
    run_depthwise(x, w, b, c["stride"], c["pads"], (1, 1), res, c["act"])


@pytest.mark.parametrize("layer", [
    # (n, c, h, w, stride, pads): exact tiles, one column/row past them, odd stride-2 sizes
    (1, 3, 1, 1, 1, (1, 1, 1, 1)), (2, 2, 2, 2, 2, (1, 1, 1, 1)), (1, 2, 4, 32, 1, (1, 1, 1, 1)),
    (1, 2, 5, 33, 1, (1, 1, 1, 1)), (1, 2, 3, 48, 1, (0, 0, 0, 0)), (1, 2, 9, 97, 2, (1, 1, 1, 1)),
    (1, 2, 15, 65, 2, (0, 1, 1, 0)), (3, 4, 7, 7, 1, (1, 1, 1, 1)), (2, 3, 14, 14, 2, (0, 0, 1, 1)),
])
def test_depthwise_3x3_direct_shapes(isa, rng, layer):
    n, c, h, w_, s, pads = layer
    x = rng.standard_normal((n, c, h, w_)).astype(np.float32)
    w = rng.standard_normal((c, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    shape = fastconv.conv.conv_output_shape(x.shape, w.shape, (s, s), pads, (1, 1))
    res = rng.standard_normal(shape).astype(np.float32)
    run_depthwise(x, w, b, (s, s), pads, (1, 1), res, act="relu")


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("shape", [(1, 2, 61, 40), (1, 3, 45, 19), (2, 5, 30, 30), (1, 300, 5, 6)])
def test_depthwise_3x3_tasks(isa, rng, threads, shape):
    # Row bands (few planes) and plane groups (many small planes), against the reference.
    n, c, h, w_ = shape
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((c, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    before = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(threads)
        for s in (1, 2):
            res = rng.standard_normal(fastconv.conv.conv_output_shape(x.shape, w.shape, (s, s), (1, 1, 1, 1),
                                                                      (1, 1))).astype(np.float32)
            run_depthwise(x, w, b, (s, s), (1, 1, 1, 1), (1, 1), res, act="relu")
    finally:
        fastconv.set_num_threads(before)


def test_depthwise_kernel_past_256_taps(isa, rng):
    # 17x17 = 289 taps: the plane's scalar fallback path.
    x = rng.standard_normal((1, 2, 20, 21)).astype(np.float32)
    w = rng.standard_normal((2, 1, 17, 17)).astype(np.float32)
    run_depthwise(x, w, None, (1, 2), (1, 0, 2, 3), (1, 1))


def test_depthwise_threads_give_identical_results(rng):
    x = rng.standard_normal((3, 16, 33, 47)).astype(np.float32)
    w = rng.standard_normal((16, 1, 3, 3)).astype(np.float32)
    plan = fastconv.ConvPlan(w, None, 1, 1, groups=16)
    before = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(1)
        y1 = plan(x)
        fastconv.set_num_threads(3)
        y3 = plan(x)
    finally:
        fastconv.set_num_threads(before)
    np.testing.assert_array_equal(y1, y3)

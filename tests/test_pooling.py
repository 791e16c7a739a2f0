"""fastconv.max_pool2d / avg_pool2d / global pooling (csrc/pool/) against float64 references."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from conftest import poisoned
from reference_layers import pool2d_ref

# Max pooling copies an input value: exact. Averages sum <= 121 float32 terms: |err| <= ~1e-6 relative.
AVG_TOL = dict(rtol=2e-6, atol=2e-6)

CASES = [  # kernel, stride, pads (t, l, b, r), dilation, ceil_mode, count_include_pad, (h, w)
    ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1), False, False, (112, 112)),  # ResNet stem
    ((3, 3), (2, 2), (0, 0, 0, 0), (1, 1), True, False, (55, 55)),    # AlexNet / GoogLeNet ceil
    ((2, 2), (2, 2), (0, 0, 0, 0), (1, 1), False, False, (14, 14)),   # VGG
    ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), False, True, (13, 17)),    # inception pool branch
    ((1, 1), (1, 1), (0, 0, 0, 0), (1, 1), False, False, (1, 1)),     # 1x1 image
    ((2, 3), (1, 2), (0, 1, 1, 2), (1, 1), True, True, (9, 10)),      # asymmetric everything
    ((3, 2), (3, 1), (2, 0, 0, 1), (2, 3), True, False, (11, 19)),    # dilation (max only)
    ((5, 5), (3, 3), (2, 2, 2, 2), (1, 1), True, True, (7, 7)),       # ceil window past the padding
    ((7, 7), (1, 1), (0, 0, 0, 0), (1, 1), False, False, (7, 7)),     # 7x7 avg = global
]


PARAMS = [(kind, c) for c in CASES for kind in ("max", "avg") if kind == "max" or c[3] == (1, 1)]  # avg: no dilation


@pytest.mark.parametrize("kind,case", PARAMS,
                         ids=[f"{k}-k{c[0]}s{c[1]}p{c[2]}d{c[3]}c{int(c[4])}i{int(c[5])}hw{c[6]}" for k, c in PARAMS])
def test_pool2d_matches_reference(isa, rng, kind, case):
    k, s, p, d, ceil, incl, (h, w) = case
    x = rng.standard_normal((2, 5, h, w)).astype(np.float32)
    ref = pool2d_ref(x, kind, k, s, d, p, ceil, incl)
    out = poisoned(ref.shape)
    if kind == "max":
        y = fastconv.max_pool2d(x, k, s, p, d, ceil_mode=ceil, out=out)
        np.testing.assert_array_equal(y, ref.astype(np.float32))
    else:
        y = fastconv.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=incl, out=out)
        np.testing.assert_allclose(y, ref, **AVG_TOL)
    assert y is out


@pytest.mark.parametrize("kh,kw,pads,ceil,dh", [
    (3, 3, (1, 1, 1, 1), False, 1), (3, 3, (0, 0, 0, 0), True, 1), (2, 2, (0, 0, 0, 0), False, 1),
    (1, 1, (0, 0, 0, 0), False, 1), (4, 2, (1, 1, 0, 1), True, 1), (2, 3, (0, 2, 1, 0), False, 2)])
@pytest.mark.parametrize("w", [1, 5, 17, 40, 111])
def test_stride2_rows_in_registers(isa, rng, kh, kw, pads, ceil, dh, w):
    """Column stride 2 with windows up to 3 wide runs each output row in registers (row_s2 in
    pool-plane.h): vectors carried across groups, edge lanes masked to the identity. Rows from
    1 float to several vectors wide, with left padding, ceil windows past the right edge and
    negative inputs (a zero fill instead of -inf would show)."""
    h = 9
    x = (rng.standard_normal((2, 3, h, w)) - 1.0).astype(np.float32)
    if h + pads[0] + pads[2] < dh * (kh - 1) + 1 or w + pads[1] + pads[3] < kw:
        with pytest.raises(ValueError, match="larger than the padded input"):
            fastconv.max_pool2d(x, (kh, kw), 2, pads, (dh, 1), ceil_mode=ceil)
        return
    for kind in ("max", "avg") if dh == 1 else ("max",):
        ref = pool2d_ref(x, kind, (kh, kw), (2, 2), (dh, 1), pads, ceil, False)
        if kind == "max":
            y = fastconv.max_pool2d(x, (kh, kw), 2, pads, (dh, 1), ceil_mode=ceil, out=poisoned(ref.shape))
            np.testing.assert_array_equal(y, ref.astype(np.float32))
        else:
            y = fastconv.avg_pool2d(x, (kh, kw), 2, pads, ceil_mode=ceil, out=poisoned(ref.shape))
            np.testing.assert_allclose(y, ref, **AVG_TOL)


@pytest.mark.parametrize("h,w", [(1, 1), (1, 20), (20, 1), (2, 2), (3, 16), (14, 14), (28, 28), (7, 33), (5, 31)])
def test_flat_3x3_same_max_pool_keeps_rows_apart(isa, rng, h, w):
    """3x3 / stride 1 / pad 1 max pooling runs over each plane as one flat array (pool-plane.h).
    The first column holds each row's largest value, growing down the rows, so a window that
    reached across a row end into the next row would pick it up; the mirrored plane checks the
    other direction."""
    x = rng.standard_normal((2, 3, h, w)).astype(np.float32)
    x[:, :, :, 0] += 100 * np.arange(1, h + 1, dtype=np.float32)
    for xx in (x, np.ascontiguousarray(x[..., ::-1])):
        ref = pool2d_ref(xx, "max", (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), False, False)
        y = fastconv.max_pool2d(xx, 3, 1, 1, out=poisoned(ref.shape))
        np.testing.assert_array_equal(y, ref.astype(np.float32))


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 20), w=st.integers(1, 40), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3),
       sw=st.integers(1, 3), pad=st.integers(0, 3), ceil=st.booleans(), incl=st.booleans(), seed=st.integers(0, 99))
def test_pool2d_random_shapes(h, w, kh, kw, sh, sw, pad, ceil, incl, seed):
    pads = (min(pad, kh - 1), min(pad, kw - 1), min(pad // 2, kh - 1), min(pad, kw - 1))
    if h + pads[0] + pads[2] < kh or w + pads[1] + pads[3] < kw:
        return
    x = np.random.default_rng(seed).standard_normal((1, 3, h, w)).astype(np.float32)
    for kind in ("max", "avg"):
        ref = pool2d_ref(x, kind, (kh, kw), (sh, sw), (1, 1), pads, ceil, incl)
        fn = fastconv.max_pool2d if kind == "max" else fastconv.avg_pool2d
        kw_args = {} if kind == "max" else {"count_include_pad": incl}
        y = fn(x, (kh, kw), (sh, sw), pads, ceil_mode=ceil, out=poisoned(ref.shape), **kw_args)
        np.testing.assert_allclose(y, ref, **AVG_TOL)


# (1, 2, 3, 4, 16): a 5-D (N, C, D, H, W) input whose last axis happens to be 16, which the blocked
# layout's (N, C/16, H, W, 16) resembles; it is pooled over D, H and W, never read as blocked.
@pytest.mark.parametrize("shape", [(2, 3, 7, 7), (1, 17, 1, 1), (3, 2, 13, 29), (1, 2, 224, 224), (1, 2, 3, 4, 16)])
def test_global_pooling(isa, rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    out_shape, axes = shape[:2] + (1,) * (len(shape) - 2), tuple(range(2, len(shape)))
    np.testing.assert_allclose(fastconv.global_avg_pool2d(x, out=poisoned(out_shape)),
                               x.astype(np.float64).mean(axis=axes, keepdims=True), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(fastconv.global_max_pool2d(x, out=poisoned(out_shape)),
                                  x.max(axis=axes, keepdims=True))


def test_stride_defaults_to_kernel(rng):
    x = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    assert fastconv.max_pool2d(x, 2).shape == (1, 2, 4, 4)


def test_pooling_bad_input(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="larger than the padded input"):
        fastconv.max_pool2d(x, 7)
    with pytest.raises(ValueError, match="smaller than the pooling window"):
        fastconv.avg_pool2d(x, 3, padding=3)
    with pytest.raises(ValueError, match="4-D"):
        fastconv.max_pool2d(x[0], 2)
    with pytest.raises(ValueError, match=">= 1"):
        fastconv.max_pool2d(x, 0)
    with pytest.raises(TypeError, match="floating-point"):
        fastconv.max_pool2d(x.astype(np.int32), 2)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s,p,hw", [(3, 1, 1, (7, 9)), (3, 2, 0, (9, 9)), (7, 7, 0, (7, 7))])
def test_pool_output_may_be_a_channel_slice(rng, kind, k, s, p, hw):
    """out = buf[:, 1:4] of a larger buffer (a Concat's part): written there, nothing else touched."""
    x = rng.standard_normal((2, 3) + hw).astype(np.float32)
    fn = fastconv.max_pool2d if kind == "max" else fastconv.avg_pool2d
    ref = fn(x, k, s, p)
    buf = np.full((2, 6) + ref.shape[2:], np.nan, np.float32)
    assert fn(x, k, s, p, out=buf[:, 1:4]) is not None
    np.testing.assert_allclose(buf[:, 1:4], ref, rtol=1e-6, atol=1e-6)
    assert np.isnan(buf[:, :1]).all() and np.isnan(buf[:, 4:]).all()

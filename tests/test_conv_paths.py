"""Paths of the GEMM convolution (csrc/conv/conv-gemm.cc) that ResNet-50 relies on, every ISA level,
poisoned outputs.

1x1 convolutions with stride > 1 (ResNet's downsample) run through im2col as a strided
gather (no phase split: kh*kw < stride), with and without padding. The transposed product
(im2col_t, pointwise_t: output positions as GEMM rows, tiles stored transposed) with every
epilogue. Error bound as in test_conv.py (check_conv).
"""
import numpy as np
import pytest

import fastconv
from conftest import KC_MAX, poisoned
from test_conv import check_conv


@pytest.mark.parametrize("n,c,k,h,w,stride,groups", [
    (1, 64, 96, 14, 14, (2, 2), 1),     # ResNet-50 downsample shape, smaller
    (2, 5, 7, 9, 11, (2, 3), 1),         # odd sizes, batch > 1, unequal strides
    (1, 3, 33, 1, 1, (2, 2), 1),         # 1x1 image
    (3, 6, 4, 8, 7, (3, 1), 2),          # groups, stride along H only
    (1, 17, 40, 7, 7, (4, 4), 1),        # stride larger than half the image
])
@pytest.mark.parametrize("act", [None, "relu"])
def test_conv_1x1_strided(isa, rng, n, c, k, h, w, stride, groups, act):
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((k, c // groups, 1, 1), dtype=np.float32)
    bias = rng.standard_normal(k, dtype=np.float32)
    plan = fastconv.ConvPlan(wt, bias, stride=stride, groups=groups, activation=act, algo="im2col")
    oh, ow = (h - 1) // stride[0] + 1, (w - 1) // stride[1] + 1
    y = plan(x, out=poisoned((n, k, oh, ow)))
    check_conv(y, x, wt, bias, stride=stride, groups=groups, act=act)


# Positions 1..17 end in row tiles of every height below MR; KC_MAX + 100 input channels
# need two k blocks, so the second accumulates into transposed tiles. On AVX-512, 49, 35, 14
# and 17 positions run the 7-row tiles (gemm_config_for_rows; 17 = 2 x 7 + a 3-row edge).
@pytest.mark.parametrize("n,c,k,hw,ks,stride,groups", [
    (1, KC_MAX + 100, 70, (7, 7), 1, 1, 1),
    (2, 33, 50, (5, 7), 1, 1, 1),
    (2, 20, 37, (7, 2), 3, 1, 1),
    (2, 9, 33, (1, 1), 1, 1, 1),
    (1, 13, 40, (3, 5), 1, 1, 1),
    (3, 24, 18, (4, 3), 3, 1, 2),
    (1, 70, 64, (9, 9), 3, 2, 1),
    (1, 5, 31, (17, 1), 1, 1, 1),
])
@pytest.mark.parametrize("act", [None, "relu", ("clip", -0.5, 0.7), ("leaky_relu", 0.1), "sigmoid", "silu"])
def test_transposed_product(isa, rng, n, c, k, hw, ks, stride, groups, act):
    h, w = hw
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((k, c // groups, ks, ks), dtype=np.float32)
    bias = rng.standard_normal(k, dtype=np.float32)
    pad = ks // 2
    oh, ow = (h + 2 * pad - ks) // stride + 1, (w + 2 * pad - ks) // stride + 1
    res = rng.standard_normal((n, k, oh, ow), dtype=np.float32)
    algos = ["im2col_t", "implicit", "implicit_t"] + (["pointwise_t"] if ks == 1 and stride == 1 else [])
    name, params = (act, ()) if act is None or isinstance(act, str) else (act[0], act[1:])
    for algo in algos:
        plan = fastconv.ConvPlan(wt, bias, stride=stride, padding=pad, groups=groups, activation=act, algo=algo)
        y = plan(x, residual=res, out=poisoned((n, k, oh, ow)))
        assert plan.algo == algo
        check_conv(y, x, wt, bias, stride=(stride, stride), pads=(pad,) * 4, groups=groups, residual=res,
                   act=name, act_params=params)


@pytest.mark.skipif("avx512" not in fastconv._C.available_isas(),
                    reason="these picks are the AVX-512 cost row's (measured on Zen 5); this CPU has no AVX-512")
def test_auto_takes_the_transposed_product_where_positions_pad_badly():
    """Of the two GEMM products, 7x7 outputs (49 positions: 64 as 32-wide panels, 50 as 8-row
    tiles) are modelled faster transposed; 56x56 and 14x14 ones are not (bench/RESULTS.md:
    1.07-1.2x and 0.9x measured). (auto may still take the direct kernel for any of them.)"""
    with fastconv.use_isa("avx512"):
        w = np.ones((2048, 512, 1, 1), np.float32)
        cost = fastconv.ConvPlan(w)._plan.modelled_cost
        assert cost("pointwise_t", 7, 7) < cost("pointwise", 7, 7)
        assert cost("pointwise", 14, 14) < cost("pointwise_t", 14, 14)
        assert cost("pointwise", 56, 56) < cost("pointwise_t", 56, 56)
        assert fastconv.ConvPlan(np.ones((2048, 1024, 1, 1), np.float32), stride=2).algo_for(14, 14) in ("im2col_t", "implicit_t")


@pytest.mark.parametrize("pads", [(0, 0, 1, 1), (1, 1, 0, 0), (0, 1, 0, 2)])
def test_conv_1x1_strided_padded(isa, rng, pads):
    x = rng.standard_normal((2, 5, 9, 8), dtype=np.float32)
    wt = rng.standard_normal((6, 5, 1, 1), dtype=np.float32)
    plan = fastconv.ConvPlan(wt, None, stride=2, padding=pads, algo="im2col")
    oh, ow = (9 + pads[0] + pads[2] - 1) // 2 + 1, (8 + pads[1] + pads[3] - 1) // 2 + 1
    y = plan(x, out=poisoned((2, 6, oh, ow)))
    check_conv(y, x, wt, None, stride=(2, 2), pads=pads)


@pytest.mark.parametrize("algo,k,groups", [("im2col", 3, 1), ("pointwise", 1, 1), ("winograd_2x2", 3, 1),
                                           ("winograd_4x4", 3, 1), ("depthwise", 3, 6), ("im2col", 3, 2),
                                           ("im2col_t", 3, 2), ("pointwise_t", 1, 1), ("implicit", 3, 1),
                                           ("implicit", 3, 2), ("implicit_t", 3, 1), ("implicit_t", 3, 2)])
def test_output_may_be_a_channel_slice_of_a_larger_buffer(isa, rng, algo, k, groups):
    """out = buf[:, 2:8] of a (3, 11, H, W) buffer (a Concat's part, images 11 planes apart): the
    slice gets the convolution, every other element of the buffer keeps its poison."""
    x = rng.standard_normal((3, 6, 9, 9)).astype(np.float32)
    w = rng.standard_normal((6, 6 // groups, k, k)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    res = rng.standard_normal((3, 6, 9, 9)).astype(np.float32)
    ref = fastconv.conv2d(x, w, b, padding=k // 2, groups=groups, residual=res, activation="relu", algo="im2col")
    buf = np.full((3, 11, 9, 9), np.nan, np.float32)
    out = buf[:, 2:8]
    y = fastconv.conv2d(x, w, b, padding=k // 2, groups=groups, residual=res, activation="relu", algo=algo, out=out)
    assert y is out
    np.testing.assert_allclose(buf[:, 2:8], ref, rtol=1e-4, atol=1e-5)
    assert np.isnan(buf[:, :2]).all() and np.isnan(buf[:, 8:]).all()


def test_output_layouts_that_cannot_be_written_are_refused(rng):
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 1, 1)).astype(np.float32)
    with pytest.raises(ValueError, match="C-contiguous within each image"):
        fastconv.conv2d(x, w, out=np.zeros((2, 4, 5, 10), np.float32)[..., ::2])
    with pytest.raises(ValueError, match="images must not overlap"):
        fastconv.conv2d(x, w, out=np.lib.stride_tricks.as_strided(np.zeros(200, np.float32), (2, 4, 5, 5),
                                                                  (40, 100, 20, 4)))


@pytest.mark.parametrize("ks,stride,pads,hw", [
    (11, 4, (0, 0, 0, 0), (31, 33)),   # AlexNet's stem, smaller: phase planes split by halving twice
    (8, 8, (1, 2, 0, 3), (19, 45)),    # stride 8: halved three times, odd widths
    (3, 2, (1, 1, 1, 1), (9, 17)),     # stride 2: one halving
    (5, 3, (2, 2, 2, 2), (13, 14)),    # stride 3: gathered element by element
])
def test_im2col_phase_split(isa, rng, ks, stride, pads, hw):
    """im2col copies a strided input once into column-phase planes (split_phases); every
    phase, including the short last ones of odd widths, must land where the taps read it."""
    h, w = hw
    x = rng.standard_normal((2, 3, h, w), dtype=np.float32)
    wt = rng.standard_normal((7, 3, ks, ks), dtype=np.float32)
    plan = fastconv.ConvPlan(wt, None, stride=stride, padding=pads, algo="im2col")
    shape = plan.output_shape(x.shape)
    y = plan(x, out=poisoned(shape))
    check_conv(y, x, wt, None, stride=(stride, stride), pads=pads)

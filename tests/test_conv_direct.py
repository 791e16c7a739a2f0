"""The direct convolution for NCHW callers (csrc/conv/conv-direct.cc): the blocked direct kernel
reading the NCHW input, its blocked output copied back to NCHW. Every ISA level, poisoned
outputs, error bound as in test_conv.py (check_conv: each output one fp32 dot product).
"""
import numpy as np
import pytest

import fastconv
from conftest import poisoned
from test_conv import check_conv


@pytest.mark.parametrize("n,c,k,h,w,ks,stride,pads,dilation", [
    (1, 3, 64, 23, 21, (7, 7), (2, 2), (3, 3, 3, 3), (1, 1)),   # a stem, odd sizes
    (2, 64, 32, 9, 9, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),     # batch 2, whole blocks
    (1, 17, 40, 8, 13, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),    # output channels not whole blocks
    (3, 5, 7, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),       # 1x1 image, 7 outputs
    (1, 20, 24, 7, 7, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),     # 1x1 layer, 49 positions (one block a tile)
    (1, 16, 48, 14, 14, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1)),   # strided 1x1 (the subsampled copy)
    (2, 6, 33, 19, 17, (5, 3), (3, 2), (2, 0, 1, 2), (1, 1)),    # stride 3, asymmetric pads
    (1, 9, 20, 15, 16, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),    # dilation
    (1, 3, 96, 35, 35, (11, 11), (4, 4), (0, 0, 0, 0), (1, 1)),  # AlexNet's stem, smaller (stride-4 tiles)
    (1, 4, 20, 23, 29, (3, 5), (5, 3), (1, 2, 0, 1), (1, 1)),    # stride 5: one position a tile
])
@pytest.mark.parametrize("act", [None, "relu", ("leaky_relu", 0.1), "sigmoid"])
def test_direct_layers(isa, rng, n, c, k, h, w, ks, stride, pads, dilation, act):
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((k, c) + ks, dtype=np.float32)
    bias = rng.standard_normal(k, dtype=np.float32)
    plan = fastconv.ConvPlan(wt, bias, stride, pads, dilation, activation=act, algo="direct")
    shape = plan.output_shape(x.shape)
    res = rng.standard_normal(shape, dtype=np.float32)
    name, params = (act, ()) if act is None or isinstance(act, str) else (act[0], act[1:])
    for r in (None, res):
        y = plan(x, residual=r, out=poisoned(shape))
        assert plan.algo == "direct"
        check_conv(y, x, wt, bias, stride, pads, dilation, residual=r, act=name, act_params=params)


def test_direct_images_in_chunks(rng):
    """Batches whose blocked output passes the scratch's chunk (4M floats) run in several
    chunks: 3 images of 16 x 512 x 512 outputs are three, each read and written in place."""
    x = rng.standard_normal((3, 2, 512, 512), dtype=np.float32)
    wt = rng.standard_normal((16, 2, 3, 3), dtype=np.float32)
    res = rng.standard_normal((3, 16, 512, 512), dtype=np.float32)
    y = fastconv.conv2d(x, wt, padding=1, residual=res, algo="direct", out=poisoned((3, 16, 512, 512)))
    check_conv(y, x, wt, pads=(1, 1, 1, 1), residual=res)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_direct_threads_into_a_strided_output(rng, threads):
    """Any thread count; the output may be a view of a larger buffer (a Concat's part)."""
    x = rng.standard_normal((2, 8, 12, 10), dtype=np.float32)
    wt = rng.standard_normal((32, 8, 3, 3), dtype=np.float32)
    big = poisoned((2, 48, 12, 10))
    old = fastconv.get_num_threads()
    fastconv.set_num_threads(threads)
    try:
        fastconv.conv2d(x, wt, padding=1, algo="direct", out=big[:, 8:40])
    finally:
        fastconv.set_num_threads(old)
    check_conv(big[:, 8:40], x, wt, pads=(1, 1, 1, 1))
    assert np.isnan(big[:, :8]).all() and np.isnan(big[:, 40:]).all(), "wrote outside its channels"


def test_direct_refuses_groups():
    with pytest.raises(ValueError, match="direct needs groups 1"):
        fastconv.ConvPlan(np.ones((8, 2, 3, 3), np.float32), groups=2, algo="direct")


def test_auto_takes_direct_where_it_is_fitted():
    """On AVX-512 the ResNet and AlexNet stems run direct (fit_cost_model.py's grid on Zen 5:
    1.16 ms, the implicit GEMM 1.24; 0.89 ms, 1.05) and so do 1x1 layers of many channels (1024 -> 256 at 14x14: 0.41 ms,
    pointwise 0.46); strided 1x1 layers stay on the GEMM paths, and the levels without a fit of
    the direct kernel never pick it."""
    stem = np.ones((64, 3, 7, 7), np.float32)
    if "avx512" in fastconv._C.available_isas():
        with fastconv.use_isa("avx512"):
            assert fastconv.ConvPlan(stem, stride=2, padding=3).algo_for(224, 224) == "direct"
            assert fastconv.ConvPlan(np.ones((96, 3, 11, 11), np.float32), stride=4).algo_for(227, 227) == "direct"
            assert fastconv.ConvPlan(np.ones((256, 1024, 1, 1), np.float32)).algo_for(14, 14) == "direct"
            assert fastconv.ConvPlan(np.ones((512, 256, 1, 1), np.float32), stride=2).algo_for(28, 28) != "direct"
            # 1x1 layers that widen the channels: direct where the output fits L2 (512 -> 2048 at
            # 7x7: 0.4 MB), the GEMM products where it would be written twice past it (64 -> 256
            # at 56x56: 3.2 MB; conv-registry.cc)
            assert fastconv.ConvPlan(np.ones((2048, 512, 1, 1), np.float32)).algo_for(7, 7) == "direct"
            assert fastconv.ConvPlan(np.ones((256, 64, 1, 1), np.float32)).algo_for(56, 56) != "direct"
        # past the stride-4 tiles the kernel runs one position a tile: never auto's pick
        assert fastconv.ConvPlan(np.ones((64, 3, 7, 7), np.float32), stride=5).algo_for(224, 224) != "direct"
    for isa in ("avx2", "generic"):
        with fastconv.use_isa(isa):
            assert fastconv.ConvPlan(stem, stride=2, padding=3).algo_for(224, 224) != "direct"


def test_auto_leaves_grouped_layers_to_the_gemm_paths(rng):
    """Grouped 1x1 layers (ShuffleNet's) are pointwise too; auto must not pick direct for them."""
    x = rng.standard_normal((1, 112, 28, 28), dtype=np.float32)
    wt = rng.standard_normal((112, 28, 1, 1), dtype=np.float32)
    plan = fastconv.ConvPlan(wt, groups=4)
    y = plan(x, out=poisoned((1, 112, 28, 28)))
    assert plan.algo != "direct"
    check_conv(y, x, wt, groups=4)

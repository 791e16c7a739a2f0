"""The implicit-GEMM convolutions, every ISA level, poisoned outputs: `implicit`
(csrc/conv/conv-implicit.cc) and its transposed product `implicit_t` (conv-implicit-t.cc).

The micro-kernel reads im2col rows in place from a padded, phase-split copy of the input and
computes each output row widened by the kernel's overhang (at stride 1 each row's right padding
is the next row's left padding); only the real columns may be stored. These layers stress what that can get wrong: tiles that start inside the dropped
columns or span several output rows (widths below and around the 32-column tile), phases of
strides 2, 4 and 8 (rows split by repeated halving in registers), 3 (gathered), dilation, asymmetric padding, groups,
depths beyond one k block (partial sums accumulated in wrapped tiles), every epilogue.
implicit_t reads each output position's taps in place from a padded channels-last copy of
the input (row pointers per position, one offset per k): the same layers check its copy (pads,
strides, dilation, a crop of columns no tap reads, groups as channel offsets), its row tiles
that cross output rows and end short, and its transposed stores.
Error bound as in test_conv.py (check_conv).
"""
import numpy as np
import pytest

import fastconv
from conftest import KC_MAX, poisoned
from test_conv import check_conv


@pytest.mark.parametrize("n,c,k,h,w,ks,stride,dilation,pads,groups", [
    (1, 64, 64, 56, 56, 3, 1, 1, (1, 1, 1, 1), 1),      # ResNet-50's 3x3 layer
    (2, 5, 13, 1, 1, 3, 1, 1, (1, 1, 1, 1), 1),         # 1x1 images: 3 columns widened from 1
    (1, 3, 20, 31, 33, 11, 4, 1, (0, 0, 0, 0), 1),      # AlexNet's stem, smaller: 16 phases, rows halved twice
    (1, 2, 5, 19, 45, 8, 8, 1, (1, 0, 2, 3), 1),        # stride 8: halved three times, odd widths
    (1, 3, 9, 30, 29, 7, 2, 1, (3, 3, 3, 3), 1),        # ResNet's stem, smaller: 4 phases in registers
    (3, 17, 10, 9, 14, 3, 2, 1, (1, 0, 2, 1), 1),       # asymmetric padding, odd channels, batch 3
    (1, 70, 33, 9, 9, 3, 3, 1, (1, 1, 1, 1), 1),        # stride 3, depth 630: two k blocks (AVX2, generic)
    (1, KC_MAX // 9 + 7, 33, 9, 9, 3, 1, 1, (1, 1, 1, 1), 1),  # depth beyond KC on every ISA: two k blocks
    (2, 8, 12, 12, 11, 3, 1, 2, (2, 2, 2, 2), 2),       # dilation 2, groups
    (1, 4, 6, 40, 3, 1, 2, 1, (0, 0, 0, 0), 1),         # 1x1 stride 2: one phase of four
    (2, 20, 9, 23, 37, 1, 2, 1, (0, 1, 1, 0), 1),       # 1x1/2 padded: implicit_t keeps every other row and
                                                        # column, 8 + 8 + 4 channels, 16 + 3 positions
    (1, 24, 16, 40, 40, 1, 2, 1, (0, 0, 0, 0), 1),      # 1x1/2: whole 16-position blocks split in registers
    (1, 6, 7, 20, 45, 5, (1, 2), (2, 1), (2, 0, 1, 3), 1),  # unequal strides and dilations
    (1, 5, 6, 8, 9, 3, 1, 1, (1, 2, 0, 0), 1),          # left pad only: rows share it as right padding
    (1, 4, 5, 6, 7, 3, 1, 1, (3, 3, 3, 3), 1),          # pads beyond the kernel's overhang: rows not shared
    (1, 9, 8, 14, 14, 3, 1, 2, (2, 2, 2, 2), 1),        # dilated rows sharing two pad columns
])
@pytest.mark.parametrize("act", [None, "relu", ("leaky_relu", 0.1), "sigmoid"])
@pytest.mark.parametrize("algo", ["implicit", "implicit_t"])
def test_implicit_layers(isa, rng, n, c, k, h, w, ks, stride, dilation, pads, groups, act, algo):
    stride = stride if isinstance(stride, tuple) else (stride, stride)
    dilation = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((k, c // groups, ks, ks), dtype=np.float32)
    bias = rng.standard_normal(k, dtype=np.float32)
    plan = fastconv.ConvPlan(wt, bias, stride=stride, padding=pads, dilation=dilation, groups=groups,
                             activation=act, algo=algo)
    shape = plan.output_shape(x.shape)
    res = rng.standard_normal(shape, dtype=np.float32)
    y = plan(x, residual=res, out=poisoned(shape))
    assert plan.algo == algo
    name, params = (act, ()) if act is None or isinstance(act, str) else (act[0], act[1:])
    check_conv(y, x, wt, bias, stride=stride, pads=pads, dilation=dilation, groups=groups, residual=res,
               act=name, act_params=params)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("algo", ["implicit", "implicit_t"])
def test_implicit_threads_and_batches(rng, threads, algo):
    """Column ranges of the GEMM split over threads (batch 1), and whole images per thread
    (batch 4): the same values either way."""
    x = rng.standard_normal((4, 24, 23, 23), dtype=np.float32)
    wt = rng.standard_normal((40, 24, 3, 3), dtype=np.float32)
    old = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(threads)
        plan = fastconv.ConvPlan(wt, None, padding=1, algo=algo)
        y = plan(x, out=poisoned((4, 40, 23, 23)))
        y1 = plan(x[2:3], out=poisoned((1, 40, 23, 23)))
    finally:
        fastconv.set_num_threads(old)
    check_conv(y, x, wt, pads=(1, 1, 1, 1))
    np.testing.assert_array_equal(y1[0], y[2])


@pytest.mark.skipif("avx512" not in fastconv._C.available_isas(),
                    reason="these picks are the AVX-512 cost row's (measured on Zen 5); this CPU has no AVX-512")
def test_auto_takes_implicit_where_it_is_modelled_fastest():
    """Of the GEMM paths AlexNet's 11x11/4 stem is modelled fastest as an implicit GEMM
    (bench/RESULTS.md: implicit 1.07-1.13x im2col, implicit_t within 5% of implicit, which the
    model does not separate; auto takes the direct kernel, test_conv_direct.py); 3x3/2 layers
    of 128-512 channels run the transposed implicit product (1.25-1.6x im2col in
    fit_cost_model.py's grid on Zen 5), a 7x7 output among them (9 widened columns of 7 would
    waste 22% in implicit); at 128 and 256 channels the direct kernel runs them as fast
    (1.16 vs 1.09 ms and 1.03 vs 1.07-1.09 ms in the grid), which the model does not separate."""
    with fastconv.use_isa("avx512"):
        stem = fastconv.ConvPlan(np.ones((96, 3, 11, 11), np.float32), stride=4)
        gemm = [a for a in ("im2col", "implicit", "implicit_t")]
        assert min(gemm, key=lambda a: stem._plan.modelled_cost(a, 227, 227)) in ("implicit", "implicit_t")
        for c, hw in [(128, 56), (256, 28), (512, 14)]:
            plan = fastconv.ConvPlan(np.ones((c, c, 3, 3), np.float32), stride=2, padding=1)
            assert plan.algo_for(hw, hw) in (("implicit_t", "direct") if c < 512 else ("implicit_t",)), (c, hw)

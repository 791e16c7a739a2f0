"""batch_norm, fold_batch_norm, softmax / log_softmax and lrn (csrc/eltwise/, csrc/norm/) against float64."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from conftest import poisoned
from reference import activation_ref, conv2d_ref, rel_err
from reference_layers import batch_norm_ref, lrn_ref, softmax_ref


def bn_params(rng, c):
    return (rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32),
            rng.standard_normal(c).astype(np.float32), rng.uniform(0.1, 2.0, c).astype(np.float32))


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 19, 1, 1), (4, 33), (1, 64, 56, 56), (2, 5, 3, 4, 2),
                                   (3, 100, 7, 7)])  # many small planes: tasks group them
@pytest.mark.parametrize("act", [None, "relu", ("clip", 0, 6), "silu"])
def test_batch_norm(isa, rng, shape, act):
    x = rng.standard_normal(shape).astype(np.float32)
    p = bn_params(rng, shape[1])
    kind, *par = (act,) if act is None or isinstance(act, str) else act
    ref = activation_ref(kind if kind != "clip" else "clip", batch_norm_ref(x, *p, 1e-3), *par)
    y = fastconv.batch_norm(x, *p, eps=1e-3, activation=act, out=poisoned(shape))
    # One fma per element on (s, t) computed in float64 and rounded: a few ulps of |x*s|+|t|.
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_fold_batch_norm_into_conv(rng):
    x = rng.standard_normal((2, 6, 9, 9)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    p = bn_params(rng, 8)
    w2, b2 = fastconv.fold_batch_norm(w, b, *p, eps=1e-5)
    y = fastconv.conv2d(x, w2, b2, padding=1, groups=2)
    ref = batch_norm_ref(conv2d_ref(x, w, b, pads=(1, 1, 1, 1), groups=2), *p, 1e-5)
    assert rel_err(y, ref) < 1e-5
    w3, b3 = fastconv.fold_batch_norm(w, None, *p)
    np.testing.assert_allclose(b3, (0 - p[2]) * p[0] / np.sqrt(p[3] + 1e-5) + p[1], rtol=1e-5, atol=1e-6)


def test_batch_norm_bad_input(rng):
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"scale has shape \(3,\) but x has 4 channels"):
        fastconv.batch_norm(x, *bn_params(rng, 3))
    s, b, m, v = bn_params(rng, 4)
    with pytest.raises(ValueError, match=r"mean has shape \(5,\), expected \(4,\)"):
        fastconv.batch_norm(x, s, b, np.zeros(5, np.float32), v)
    with pytest.raises(ValueError, match="var \\+ eps must be positive"):
        fastconv.batch_norm(x, s, b, m, -np.ones(4, np.float32))


@pytest.mark.parametrize("shape,axis", [((3, 1000), -1), ((2, 7), 1), ((1, 1), 0), ((2, 10, 5, 3), 1),
                                        ((4, 3, 17), 0), ((2, 3, 33), 2), ((5, 37, 2), -2)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(isa, rng, shape, axis, log):
    x = (rng.standard_normal(shape) * 10).astype(np.float32)
    fn = fastconv.log_softmax if log else fastconv.softmax
    y = fn(x, axis=axis, out=poisoned(shape))
    # Rounding x - max in float32 moves exp's argument by up to ulp(range)/2 = range * 2^-24, which is
    # a relative error of that size in every term (and an absolute one in log-softmax); exp, the sum
    # and the log add a few ulps on top.
    spread = float(x.max() - x.min()) * 2.0**-24
    if log:
        np.testing.assert_allclose(y, softmax_ref(x, axis, True), rtol=1e-6, atol=2 * spread + 1e-6)
    else:
        np.testing.assert_allclose(y, softmax_ref(x, axis), rtol=2 * spread + 1e-6, atol=1e-30)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=4), data=st.data(), log=st.booleans())
def test_softmax_random_shapes(shape, data, log):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(len(shape) * 1000 + axis).standard_normal(shape).astype(np.float32)
    y = (fastconv.log_softmax if log else fastconv.softmax)(x, axis=axis, out=poisoned(tuple(shape)))
    np.testing.assert_allclose(y, softmax_ref(x, axis, log), rtol=2e-6, atol=2e-6)


def test_softmax_is_stable_for_large_inputs():
    x = np.array([[1e4, 1e4 + 1.0, -1e4], [-1e30, 0.0, 1e30]], np.float32)
    y = fastconv.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, softmax_ref(x, -1), atol=1e-7)
    assert np.all(np.isfinite(fastconv.log_softmax(x[:1])))


def test_softmax_bad_axis(rng):
    with pytest.raises(ValueError, match=r"axis 2 is out of range for x with 2 dimensions \(shape \(3, 4\)\)"):
        fastconv.softmax(rng.standard_normal((3, 4)).astype(np.float32), axis=2)


@pytest.mark.parametrize("shape,size,alpha,beta,bias", [
    ((2, 96, 13, 13), 5, 1e-4, 0.75, 1.0),    # AlexNet
    ((1, 7, 5, 3), 3, 0.5, 0.6, 2.0),          # big alpha: the normaliser matters
    ((1, 5, 1, 1), 4, 1.0, 1.3, 0.5),          # even size: window asymmetric (ONNX floor/ceil)
    ((1, 3, 70, 70), 7, 2e-3, 0.75, 1.0),      # window wider than the channels, plane > one piece
])
def test_lrn(isa, rng, shape, size, alpha, beta, bias):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    y = fastconv.lrn(x, size, alpha, beta, bias, out=poisoned(shape))
    # log and exp each within ~2 ulps; the power multiplies log's error by beta: ~1e-6 relative.
    np.testing.assert_allclose(y, lrn_ref(x, size, alpha, beta, bias), rtol=3e-6, atol=1e-7)


def test_lrn_bad_input(rng):
    x = rng.standard_normal((1, 4, 2, 2)).astype(np.float32)
    with pytest.raises(ValueError, match="size must be a positive int"):
        fastconv.lrn(x, 0)
    with pytest.raises(ValueError, match="4-D|spatial"):
        fastconv.lrn(x[0, 0], 3)

"""Activations, prelu, add/mul with broadcasting, concat, flatten, linear (csrc/eltwise/, csrc/act/)."""
import numpy as np
import pytest

import fastconv
from conftest import poisoned
from reference import activation_ref

# ACT_TOL: relu/clip/leaky/hard_* are exact up to one rounding; exp-based ones are within a
# few float ulps (act-math.h): relative 2e-6, plus an absolute floor near zero crossings.
ACT_TOL = dict(rtol=2e-6, atol=2e-7)

ACTS = [("relu", fastconv.relu, ()), ("leaky_relu", fastconv.leaky_relu, (0.1,)), ("clip", fastconv.clip, (-1.5, 2.0)),
        ("sigmoid", fastconv.sigmoid, ()), ("hard_sigmoid", fastconv.hard_sigmoid, (0.3, 0.4)),
        ("hard_swish", fastconv.hard_swish, ()), ("tanh", fastconv.tanh, ()), ("silu", fastconv.silu, ()),
        ("elu", fastconv.elu, (0.7,)), ("softplus", fastconv.softplus, ())]


@pytest.mark.parametrize("kind,fn,params", ACTS, ids=[a[0] for a in ACTS])
@pytest.mark.parametrize("shape", [(1,), (3, 17), (2, 5, 7, 3), (1, 1, 1, 1)])
def test_activation_functions(isa, rng, kind, fn, params, shape):
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    ref = activation_ref(kind, x, *params)
    np.testing.assert_allclose(fn(x, *params, out=poisoned(shape)), ref, **ACT_TOL)
    np.testing.assert_allclose(fastconv.activation(x, kind, *params), ref, **ACT_TOL)


def test_activation_accuracy_over_wide_range(isa):
    """The vector exp/tanh/log1p paths across their whole range (polynomial breakpoints, clamps);
    results below ~1e-36 may flush early (act-math.h clamps exp's argument), hence the atol."""
    x = np.concatenate([np.linspace(-90, 90, 20001), np.linspace(-1e-3, 1e-3, 2001)]).astype(np.float32)
    for kind in ("sigmoid", "tanh", "silu", "elu", "softplus"):
        a = 1.0 if kind == "elu" else 0.0
        ref = activation_ref(kind, x, a)
        y = fastconv.activation(x, kind, *((a,) if kind == "elu" else ()))
        np.testing.assert_allclose(y, ref, rtol=3e-6, atol=1e-35, err_msg=kind)


@pytest.mark.parametrize("slope_shape", [(6,), (6, 1, 1), (1, 6, 1, 1), (1,), (5,)])
def test_prelu(isa, rng, slope_shape):
    x = rng.standard_normal((2, 6, 4, 5)).astype(np.float32)
    slope = rng.uniform(0.05, 0.5, slope_shape).astype(np.float32)
    s = slope.reshape(6, 1, 1) if slope_shape == (6,) else slope  # (C,) is per channel
    y = fastconv.prelu(x, slope, out=poisoned(x.shape))
    np.testing.assert_allclose(y, np.where(x >= 0, x, x.astype(np.float64) * s), rtol=1e-7, atol=0)


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("shapes", [((2, 8, 5, 7), (2, 8, 5, 7)), ((2, 8, 5, 7), (8, 1, 1)), ((1, 8, 1, 1), (2, 8, 5, 7)),
                                    ((3, 9), (9,)), ((3, 9), ()), ((2, 8, 5, 7), (7,)), ((4, 1, 3), (1, 5, 1))])
@pytest.mark.parametrize("act", [None, "relu"])
def test_add_mul_broadcasting(isa, rng, op, shapes, act):
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    ref = (np.add if op == "add" else np.multiply)(a.astype(np.float64), b)
    ref = activation_ref(act, ref)
    y = getattr(fastconv, op)(a, b, activation=act, out=poisoned(ref.shape))
    np.testing.assert_allclose(y, ref, rtol=1e-7, atol=0)  # one correctly rounded op


def test_add_large_same_shape(rng):
    a = rng.standard_normal((3, 64, 56, 56)).astype(np.float32)
    b = rng.standard_normal(a.shape).astype(np.float32)
    np.testing.assert_array_equal(fastconv.add(a, b, out=poisoned(a.shape)), a + b)


def test_add_bad_shapes(rng):
    with pytest.raises(ValueError, match=r"a has shape \(2, 3\) and b has shape \(4,\)"):
        fastconv.add(np.ones((2, 3), np.float32), np.ones(4, np.float32))


def test_concat_flatten(rng):
    xs = [rng.standard_normal((2, c, 3, 3)).astype(np.float32) for c in (1, 4, 2)]
    np.testing.assert_array_equal(fastconv.concat(xs), np.concatenate(xs, 1))
    with pytest.raises(ValueError, match=r"xs\[1\] has shape"):
        fastconv.concat([xs[0], xs[1][:, :, :2]])
    assert fastconv.flatten(xs[1]).shape == (2, 36)
    out = np.full((2, 7, 3, 3), np.nan, np.float32)  # poisoned: every element must be written
    assert fastconv.concat(xs, out=out) is out
    np.testing.assert_array_equal(out, np.concatenate(xs, 1))
    with pytest.raises(ValueError, match=r"out must be a float32 array of shape \(2, 7, 3, 3\)"):
        fastconv.concat(xs, out=np.empty((2, 6, 3, 3), np.float32))


@pytest.mark.parametrize("n,k,m", [(1, 37, 5), (8, 300, 129), (3, 9216, 64), (6, 3, 7), (16, 65, 33), (32, 130, 70),
                                   (33, 130, 70), (40, 512, 100), (100, 33, 1)])  # n <= 32: row kernels, else the GEMM
def test_linear(isa, rng, n, k, m):
    x = rng.standard_normal((n, k)).astype(np.float32)
    w = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    ref = np.maximum(x.astype(np.float64) @ w.T.astype(np.float64) + b, 0)
    y = fastconv.linear(x, w, b, activation="relu", out=poisoned((n, m)))
    # fp32 dot products of length k: error ~ sqrt(k) * eps * ||x|| ||w|| relative to the scale.
    assert np.max(np.abs(y - ref)) < 1e-5 * np.sqrt(k) * 4
    with pytest.raises(ValueError, match=f"x has {k} features"):
        fastconv.linear(x, w[:, :k - 1])

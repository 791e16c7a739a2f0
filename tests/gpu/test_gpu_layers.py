"""fastconv.gpu pooling, batch norm, activations, softmax and LRN vs float64 references on the CPU
(the array versions in fastconv/gpu/_math.py, themselves checked against onnxruntime in
tests/test_gpu_host.py, run here in float64; activations against tests/reference.py)."""
import numpy as np
import pytest

import fastconv.gpu as fg
from fastconv.gpu import _geometry, _math
from reference import activation_ref, rel_err

RTOL = 1e-5


def f64(a):
    return np.asarray(a, np.float64)


POOLS = [  # (shape, kernel, stride, padding, dilation, ceil_mode)
    ((1, 64, 112, 112), 3, 2, 1, 1, False),     # ResNet stem
    ((2, 5, 13, 11), 3, 2, 1, 1, True),
    ((2, 3, 9, 10), (2, 3), (1, 2), (0, 1, 1, 0), (2, 1), False),
    ((1, 4, 1, 1), 1, 1, 0, 1, False),
    ((3, 7, 8, 8), 2, None, 0, 1, True),
]


@pytest.mark.parametrize("shape, k, s, p, d, ceil", POOLS)
def test_max_pool(cp, rng, gpu_poisoned, shape, k, s, p, d, ceil):
    x = rng.standard_normal(shape).astype(np.float32)
    out_shape = fg.pool2d_output_shape(shape, k, s, p, d, ceil)
    out = gpu_poisoned(out_shape)
    y = fg.max_pool2d(cp.asarray(x), k, s, p, d, ceil, out=out)
    kk, ss, pp, dd = fg.layers._pool_params(k, s, p, d)
    ref = _math.max_pool2d(np, f64(x), kk, ss, pp, dd, out_shape[2:])
    np.testing.assert_array_equal(y.get(), ref.astype(np.float32))


@pytest.mark.parametrize("include", [False, True])
@pytest.mark.parametrize("shape, k, s, p, d, ceil", [c for c in POOLS if c[4] == 1])
def test_avg_pool(cp, rng, gpu_poisoned, shape, k, s, p, d, ceil, include):
    x = rng.standard_normal(shape).astype(np.float32)
    out_shape = fg.pool2d_output_shape(shape, k, s, p, 1, ceil)
    y = fg.avg_pool2d(cp.asarray(x), k, s, p, ceil, include, out=gpu_poisoned(out_shape))
    kk, ss, pp, _ = fg.layers._pool_params(k, s, p, 1)
    ref = _math.avg_pool2d(np, f64(x), kk, ss, pp, out_shape[2:], include)
    assert rel_err(y.get(), ref) <= RTOL


@pytest.mark.parametrize("shape", [(2, 2048, 7, 7), (1, 3, 1, 1), (3, 5, 17, 13), (1, 2, 224, 224)])
def test_global_pools(cp, rng, gpu_poisoned, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    y = fg.global_avg_pool2d(cp.asarray(x), out=gpu_poisoned(shape[:2] + (1, 1)))
    assert rel_err(y.get(), f64(x).mean(axis=(2, 3), keepdims=True)) <= RTOL
    y = fg.global_max_pool2d(cp.asarray(x), out=gpu_poisoned(shape[:2] + (1, 1)))
    np.testing.assert_array_equal(y.get(), x.max(axis=(2, 3), keepdims=True))


@pytest.mark.parametrize("shape", [(2, 6, 5, 7), (2, 8, 4, 4), (4, 10), (1, 3, 2, 2, 3)])
@pytest.mark.parametrize("act", [None, "relu", ("clip", 0, 6)])
def test_batch_norm(cp, rng, gpu_poisoned, shape, act):
    x = rng.standard_normal(shape).astype(np.float32)
    c = shape[1]
    g, b, m = (rng.standard_normal(c).astype(np.float32) for _ in range(3))
    v = rng.uniform(0.5, 2, c).astype(np.float32)
    y = fg.batch_norm(cp.asarray(x), g, b, m, v, 1e-3, act, out=gpu_poisoned(shape))
    bshape = (1, c) + (1,) * (len(shape) - 2)
    z = (f64(x) - f64(m).reshape(bshape)) / np.sqrt(f64(v).reshape(bshape) + 1e-3) * f64(g).reshape(bshape) \
        + f64(b).reshape(bshape)
    kind = act if act is None or isinstance(act, str) else act[0]
    ref = activation_ref(kind, z, *(act[1:] if isinstance(act, tuple) else ()))
    assert rel_err(y.get(), ref) <= RTOL


@pytest.mark.parametrize("kind", [k for k in _math.ACT_CODES] + ["relu6", ("leaky_relu", 0.2), ("elu", 0.5)])
@pytest.mark.parametrize("size", [1, 7, 4096 + 3])
def test_activation(cp, rng, kind, size):
    x = (5 * rng.standard_normal(size)).astype(np.float32)
    y = fg.activation(cp.asarray(x), kind)
    name, alpha, beta = fastconv_activation(kind)
    ref = activation_ref(name, f64(x), alpha, beta)
    np.testing.assert_allclose(y.get(), ref, rtol=2e-6, atol=1e-6)


def fastconv_activation(kind):
    from fastconv import _checks
    return _checks.activation(kind)


@pytest.mark.parametrize("shape, axis", [((3, 1000), -1), ((2, 5, 3, 4), 1), ((4, 3, 2), 0), ((2, 70000), 1),
                                         ((1, 1), 0)])
def test_softmax(cp, rng, shape, axis):
    x = (10 * rng.standard_normal(shape)).astype(np.float32)
    y = fg.softmax(cp.asarray(x), axis)
    assert rel_err(y.get(), _math.softmax(np, f64(x), axis)) <= RTOL
    y = fg.log_softmax(cp.asarray(x), axis)
    assert rel_err(y.get(), _math.softmax(np, f64(x), axis, log=True)) <= RTOL


def test_activation_parameters_as_arguments(cp, rng):
    x = (3 * rng.standard_normal(100)).astype(np.float32)
    np.testing.assert_allclose(fg.activation(cp.asarray(x), "clip", 0, 6).get(), np.clip(x, 0, 6))
    np.testing.assert_allclose(fg.activation(cp.asarray(x), "leaky_relu", 0.2).get(), np.where(x >= 0, x, 0.2 * x),
                               rtol=1e-6)


@pytest.mark.parametrize("size", [1, 2, 5])
def test_lrn(cp, rng, size):
    x = rng.standard_normal((2, 96, 9, 7)).astype(np.float32)
    y = fg.lrn(cp.asarray(x), size, 1e-4, 0.75, 2.0)
    assert rel_err(y.get(), _math.lrn(np, f64(x), size, 1e-4, 0.75, 2.0)) <= RTOL


def test_bad_input(cp):
    x = cp.zeros((1, 2, 4, 4), cp.float32)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        fg.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="larger than the padded input"):
        fg.max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"scale has shape \(3,\)"):
        fg.batch_norm(x, *(cp.ones(3, cp.float32),) * 4)
    with pytest.raises(ValueError, match="axis=4 is out of range"):
        fg.softmax(x, 4)
    with pytest.raises(ValueError, match="size must be a positive int"):
        fg.lrn(x, 0)
    with pytest.raises(TypeError, match="dtype bool"):
        fg.activation(cp.zeros(3, bool), "relu")


def test_more_than_2_to_the_31_elements(real_gpu):
    cp = real_gpu
    """Flat indices are 64-bit: the last elements of a 2**31 + 8 element tensor are written."""
    n = 2**31 + 8
    if cp.cuda.Device().mem_info[0] < 2 * 4 * n + (1 << 30):
        pytest.skip("needs ~17 GB of free GPU memory")
    x = cp.full((1, 1, n), -1.0, cp.float32)
    x[0, 0, -5:] = 2.0
    y = fg.activation(x, "relu")
    assert float(y[0, 0, -5:].sum()) == 10.0 and float(y[0, 0, :-5].max()) == 0.0
    del x, y
    assert _geometry.grid_for(n)[0][0] == _geometry.MAX_BLOCKS

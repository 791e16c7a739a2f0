"""fastconv.gemm (csrc/gemm/) against float64 numpy, on every ISA level.

Error bound: each output is a K-term fp32 dot product plus up to two fp32 additions
(bias, residual), so |c - ref| <= (K + 2) * u * (|a| @ |b| + |bias| + |residual|) with
u = 2^-24 (the standard forward bound for recursive summation; blocked/FMA summation does
better). Activations add at most a few ulps of their own on top (act-math.h).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastconv
from conftest import KC_MAX, poisoned
from reference import activation_ref

U = 2.0 ** -24
fixture_ok = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_gemm_bound(c, a, b, bias=None, residual=None, bias_axis=1):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ref = a64 @ b64
    mag = np.abs(a64) @ np.abs(b64)
    if bias is not None:
        bias2 = bias[None, :] if bias_axis == 1 else bias[:, None]
        ref = ref + bias2
        mag = mag + np.abs(bias2)
    if residual is not None:
        ref = ref + residual
        mag = mag + np.abs(residual)
    k = a.shape[1]
    assert np.all(np.isfinite(c)), "unwritten (NaN) or non-finite outputs"
    err = np.abs(c - ref)
    bound = (k + 2) * U * mag + 1e-30
    assert np.all(err <= bound), f"max err {err.max():.3g}, worst ratio to bound {(err / bound).max():.3g}"
    return ref


@fixture_ok
@given(m=st.integers(1, 70), n=st.integers(1, 90), k=st.integers(0, 70), data=st.data())
def test_gemm_random_shapes(isa, m, n, k, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = fastconv.gemm(a, b, out=poisoned((m, n)))
    check_gemm_bound(c, a, b)


@pytest.mark.parametrize("shape", [(1, 1, 1), (300, 257, 515), (3, 3100, 9), (129, 33, 700), (17, 1, 300),
                                   (37, 70, 2 * KC_MAX + 37)])
def test_gemm_crosses_every_block(isa, rng, shape):
    # Sizes beyond MC, KC and NC and not multiples of MR/NR: every edge path of the driver runs.
    m, n, k = shape
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    res = rng.standard_normal((m, n)).astype(np.float32)
    c = fastconv.gemm(a, b, bias=bias, residual=res, out=poisoned((m, n)))
    check_gemm_bound(c, a, b, bias, res)


def test_gemm_transposed_views_are_read_in_place(isa, rng):
    a = rng.standard_normal((45, 31)).astype(np.float32)
    b = rng.standard_normal((50, 45)).astype(np.float32)
    c = fastconv.gemm(a.T, b.T)
    check_gemm_bound(c, a.T, b.T)
    sl = rng.standard_normal((40, 60)).astype(np.float32)[::2, 1::3]  # non-unit strides both ways
    c = fastconv.gemm(sl, sl.T)
    check_gemm_bound(c, sl, sl.T)


@pytest.mark.parametrize("bias_axis", [0, 1])
@pytest.mark.parametrize("act", [None, "relu", "relu6", ("leaky_relu", 0.1), ("clip", -0.5, 0.7), "sigmoid", "tanh",
                                 "silu", "hard_swish", ("hard_sigmoid", 0.2, 0.5), ("elu", 0.8), "softplus"])
def test_gemm_fused_epilogue(isa, rng, act, bias_axis):
    m, n, k = 23, 41, 37
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n if bias_axis == 1 else m).astype(np.float32)
    res = rng.standard_normal((m, n)).astype(np.float32)
    c = fastconv.gemm(a, b, bias=bias, activation=act, residual=res, bias_axis=bias_axis, out=poisoned((m, n)))
    pre = a.astype(np.float64) @ b + (bias[None, :] if bias_axis == 1 else bias[:, None]) + res
    name, *params = (act,) if isinstance(act, str) or act is None else act
    defaults = {"leaky_relu": [0.01], "hard_sigmoid": [0.2, 0.5], "elu": [1.0]}
    params = params or defaults.get(name, [])
    ref = activation_ref(name, pre, *params)
    # Pre-activation error bound (above) times the activation's Lipschitz constant (<= 1.2 here),
    # plus the activation's own few-ulp error.
    mag = np.abs(a.astype(np.float64)) @ np.abs(b) + np.abs(res) + 1
    assert np.all(np.abs(c - ref) <= 1.2 * (k + 2) * U * mag + 4e-7 * np.maximum(np.abs(ref), 1))


def test_gemm_threads_do_not_change_results(rng):
    a = rng.standard_normal((200, 150)).astype(np.float32)
    b = rng.standard_normal((150, 333)).astype(np.float32)
    before = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(1)
        one = fastconv.gemm(a, b)
        fastconv.set_num_threads(2)
        two = fastconv.gemm(a, b)
    finally:
        fastconv.set_num_threads(before)
    # Same tiles, same k order: the split between threads must not change a single bit.
    assert np.array_equal(one, two)


def test_gemm_dtype_rule(rng):
    a64 = rng.standard_normal((5, 6))
    b16 = rng.standard_normal((6, 7)).astype(np.float16)
    c = fastconv.gemm(a64, b16)
    assert c.dtype == np.float32
    check_gemm_bound(c, a64.astype(np.float32), b16.astype(np.float32))
    with pytest.raises(TypeError, match="dtype int64"):
        fastconv.gemm(np.ones((2, 2), np.int64), np.ones((2, 2), np.float32))


@pytest.mark.parametrize("call, message", [
    (lambda: fastconv.gemm(np.ones((2, 3), np.float32), np.ones((4, 5), np.float32)), r"a.shape\[1\] must equal"),
    (lambda: fastconv.gemm(np.ones(3, np.float32), np.ones((3, 5), np.float32)), "a must be 2-D"),
    (lambda: fastconv.gemm(np.ones((2, 3), np.float32), np.ones((3, 5), np.float32), bias=np.ones(4)), "bias has 4"),
    (lambda: fastconv.gemm(np.ones((2, 3), np.float32), np.ones((3, 5), np.float32), residual=np.ones((5, 2))),
     "residual has shape"),
    (lambda: fastconv.gemm(np.ones((2, 3), np.float32), np.ones((3, 5), np.float32), activation="gelu2"),
     "unknown activation"),
    (lambda: fastconv.gemm(np.ones((2, 3), np.float32), np.ones((3, 5), np.float32), out=np.empty((5, 2), np.float32)),
     "out has shape"),
])
def test_gemm_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()

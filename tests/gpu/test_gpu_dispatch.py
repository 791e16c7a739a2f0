"""device= on fastconv's own functions: CuPy arrays (or device="cuda") run fastconv.gpu's kernels and
give CuPy arrays; numpy arrays (or device="cpu") the CPU engine. Each GPU result is compared with
the CPU engine's on the same random data (relative L2 error <= 1e-5, fp32 sums in both)."""
import inspect

import numpy as np
import pytest

import fastconv
import fastconv.gpu as fg
from reference import rel_err

RTOL = 1e-5


def _x(rng, shape=(2, 5, 9, 7)):
    return rng.standard_normal(shape).astype(np.float32)


OPS = [  # (name, args after x, kwargs): every dispatched function, with arguments that exercise it
    ("max_pool2d", (3, 2, 1), {}),
    ("avg_pool2d", ((2, 3), 1, (0, 1)), {"ceil_mode": True}),
    ("global_avg_pool2d", (), {}),
    ("global_max_pool2d", (), {}),
    ("softmax", (), {"axis": 1}),
    ("log_softmax", (), {}),
    ("lrn", (3,), {"alpha": 1e-2}),
    ("activation", ("leaky_relu", 0.1), {}),
    ("relu", (), {}),
    ("clip", (-0.5, 0.5), {}),
    ("silu", (), {}),
    ("hard_sigmoid", (), {"alpha": 0.3}),
    ("elu", (0.7,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", OPS, ids=[o[0] for o in OPS])
def test_cupy_input_runs_on_the_gpu(cp, rng, name, args, kwargs):
    x = _x(rng)
    fn = getattr(fastconv, name)
    want = fn(x, *args, **kwargs)
    got = fn(cp.asarray(x), *args, **kwargs)
    assert isinstance(got, cp.ndarray) and got.shape == want.shape
    assert rel_err(got.get(), want) <= RTOL
    up = fn(x, *args, device="cuda", **kwargs)          # numpy in, uploaded once
    assert isinstance(up, cp.ndarray)
    np.testing.assert_array_equal(up.get(), got.get())


def test_conv2d_and_batch_norm(cp, rng):
    x, w, b = _x(rng, (2, 6, 11, 10)), _x(rng, (8, 3, 3, 3)), _x(rng, (8,))
    res = _x(rng, (2, 8, 6, 5))
    want = fastconv.conv2d(x, w, b, 2, 1, 1, 2, "relu", res)
    got = fastconv.conv2d(cp.asarray(x), w, b, 2, 1, 1, 2, "relu", cp.asarray(res))
    assert isinstance(got, cp.ndarray) and rel_err(got.get(), want) <= RTOL
    out = cp.full(want.shape, np.nan, dtype=cp.float32)   # out= is written where the op ran
    assert fastconv.conv2d(x, w, b, 2, 1, 1, 2, "relu", res, out=out, device="cuda") is out
    assert rel_err(out.get(), want) <= RTOL

    scale, shift, mean = _x(rng, (6,)), _x(rng, (6,)), _x(rng, (6,))
    var = rng.uniform(0.5, 2, 6).astype(np.float32)
    want = fastconv.batch_norm(x, scale, shift, mean, var, 1e-3, "relu")
    got = fastconv.batch_norm(cp.asarray(x), scale, shift, mean, var, 1e-3, "relu")
    assert isinstance(got, cp.ndarray) and rel_err(got.get(), want) <= RTOL


def test_conv_plan_follows_its_weight(cp, rng):
    x, w = _x(rng, (1, 4, 8, 8)), _x(rng, (6, 4, 3, 3))
    assert isinstance(fastconv.ConvPlan(w), fastconv.ConvPlan)
    for plan in (fastconv.ConvPlan(cp.asarray(w), padding=1), fastconv.ConvPlan(w, padding=1, device="cuda")):
        assert isinstance(plan, fg.ConvPlan)
        got = plan(cp.asarray(x))
        assert isinstance(got, cp.ndarray)
        assert rel_err(got.get(), fastconv.conv2d(x, w, padding=1)) <= RTOL


def test_device_cpu_refuses_gpu_arrays(cp, rng):
    x = cp.asarray(_x(rng))
    with pytest.raises(TypeError, match="GPU array"):
        fastconv.max_pool2d(x, 2, device="cpu")
    with pytest.raises(TypeError, match="GPU array"):
        fastconv.add(x, x)            # no GPU version: refused, not copied behind the user's back


def test_bad_device_and_signatures(rng):
    with pytest.raises(ValueError, match="device must be one of"):
        fastconv.relu(_x(rng), device="gpu")
    for name in ("conv2d", "max_pool2d", "batch_norm", "softmax", "lrn", "activation", "relu"):
        p = inspect.signature(getattr(fastconv, name)).parameters["device"]
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None

"""The CUDA kernels themselves, run on the CPU: each .cu file (the exact text NVRTC gets) is
compiled as C++ with tests/cuda_host_shim.h, where one thread walks every grid-stride loop, and
called through ctypes with the argument order the plans use. This checks the kernels' index math
and arithmetic against float64 references on machines without a GPU; tests/gpu checks the real
thing. Bounds as in tests/test_gpu_host.py (float32 sums, rel. L2 error <= 1e-5)."""
import ctypes
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from fastconv.gpu import _backend, _geometry, _math
from reference import activation_ref, conv2d_ref, rel_err

CXX = shutil.which("g++") or shutil.which("c++")
SHIM = pathlib.Path(__file__).with_name("cuda_host_shim.h")
pytestmark = pytest.mark.skipif(CXX is None, reason="no C++ compiler to build the kernels for the CPU")
I, L, F = ctypes.c_int, ctypes.c_longlong, ctypes.c_float
RTOL = 1e-5


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    """{file name: ctypes.CDLL} of every kernel file compiled for the host."""
    out = tmp_path_factory.mktemp("cuda_host")
    libs = {}
    for name in _backend.KERNEL_FILES:
        src = out / (name + ".cc")
        src.write_text(_backend.kernel_source(name))
        so = out / (name + ".so")
        run = subprocess.run([CXX, "-std=c++14", "-O1", "-shared", "-fPIC", "-include", str(SHIM), str(src),
                              "-o", str(so)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        libs[name] = ctypes.CDLL(str(so))
    return libs


def P(a):
    """A pointer argument: a float32 C-contiguous array, or None (null)."""
    if a is None:
        return ctypes.c_void_p(0)
    assert a.dtype == np.float32 and a.flags.c_contiguous
    return a.ctypes.data_as(ctypes.c_void_p)


def act_args(kind, alpha=0.0, beta=0.0):
    return I(_math.ACT_CODES[kind]), F(alpha), F(beta)


def nan(shape):
    return np.full(shape, np.nan, np.float32)


def geom(n, c, h, w, k, kh, kw, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    return _geometry.conv_geometry((n, c, h, w), (k, c // groups, kh, kw), stride, pads, dilation, groups)


@pytest.mark.parametrize("g", [
    geom(2, 6, 7, 9, 4, 3, 3, (2, 1), (1, 0, 2, 1), (1, 2), 2),
    geom(1, 3, 11, 11, 5, 5, 5, (4, 4), (2, 2, 2, 2)),
    geom(1, 2, 1, 1, 3, 1, 1),
])
def test_im2col_kernel_then_gemm_is_the_convolution(lib, rng, g):
    x = rng.standard_normal((g.n, g.c, g.h, g.w)).astype(np.float32)
    w = rng.standard_normal((g.k, g.c // g.groups, g.kh, g.kw)).astype(np.float32)
    cols = nan((g.n, g.c * g.kh * g.kw, g.oh * g.ow))
    lib["im2col.cu"].fc_im2col(P(x), P(cols), I(g.n), I(g.c), I(g.h), I(g.w), I(g.kh), I(g.kw), I(g.stride[0]),
                               I(g.stride[1]), I(g.dilation[0]), I(g.dilation[1]), I(g.pads[0]), I(g.pads[1]),
                               I(g.oh), I(g.ow))
    np.testing.assert_array_equal(cols, _math.im2col(np, x, g))
    y = _math.gemm_conv(np, cols, _math.grouped_weight_matrix(w, g.groups), g.oh, g.ow)
    assert rel_err(y, conv2d_ref(x, w, None, g.stride, g.pads, g.dilation, g.groups)) <= RTOL


@pytest.mark.parametrize("n, c, k, h, w, pads", [(2, 5, 3, 7, 9, (1, 1, 1, 1)), (1, 3, 4, 6, 6, (0, 0, 0, 0)),
                                                 (1, 2, 2, 1, 1, (1, 1, 1, 1)), (2, 4, 3, 8, 5, (2, 0, 1, 2))])
@pytest.mark.parametrize("kind", ["none", "relu", "silu"])
def test_winograd_kernels_are_the_convolution(lib, rng, n, c, k, h, w, pads, kind):
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((k, c, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(k).astype(np.float32)
    g = geom(n, c, h, w, k, 3, 3, pads=pads)
    th, tw = _geometry.winograd_tiles(g.oh, g.ow)
    v = nan((16, c, n * th * tw))
    lib["winograd.cu"].fc_winograd_f2x3_input(P(x), P(v), I(n), I(c), I(h), I(w), I(pads[0]), I(pads[1]), I(th),
                                              I(tw))
    np.testing.assert_allclose(v, _math.winograd_f2x3_input(np, x, pads[0], pads[1], th, tw), rtol=1e-6, atol=1e-6)
    m = np.ascontiguousarray(_math.winograd_gemm(np, _math.winograd_f2x3_filter(np, wt), v))
    res = rng.standard_normal((n, k, g.oh, g.ow)).astype(np.float32)
    y = nan(res.shape)
    lib["winograd.cu"].fc_winograd_f2x3_output(P(m), P(y), P(bias), P(res), I(n), I(k), I(g.oh), I(g.ow), I(th),
                                               I(tw), *act_args(kind))
    ref = activation_ref(kind, conv2d_ref(x, wt, bias, (1, 1), pads) + res)
    assert rel_err(y, ref) <= RTOL


@pytest.mark.parametrize("g", [geom(2, 4, 9, 8, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 4),
                               geom(1, 3, 10, 7, 6, 5, 3, (2, 1), (2, 0, 1, 1), (1, 2), 3),
                               geom(1, 2, 1, 1, 2, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 2)])
def test_depthwise_kernel(lib, rng, g):
    x = rng.standard_normal((g.n, g.c, g.h, g.w)).astype(np.float32)
    w = rng.standard_normal((g.k, 1, g.kh, g.kw)).astype(np.float32)
    bias = rng.standard_normal(g.k).astype(np.float32)
    res = rng.standard_normal((g.n, g.k, g.oh, g.ow)).astype(np.float32)
    y = nan(res.shape)
    lib["dwconv.cu"].fc_dwconv2d(P(x), P(w), P(bias), P(res), P(y), I(g.n), I(g.c), I(g.h), I(g.w), I(g.k),
                                 I(g.kh), I(g.kw), I(g.stride[0]), I(g.stride[1]), I(g.dilation[0]),
                                 I(g.dilation[1]), I(g.pads[0]), I(g.pads[1]), I(g.oh), I(g.ow),
                                 *act_args("leaky_relu", 0.1))
    ref = activation_ref("leaky_relu", conv2d_ref(x, w, bias, g.stride, g.pads, g.dilation, g.groups) + res, 0.1)
    assert rel_err(y, ref) <= RTOL


@pytest.mark.parametrize("vec", [False, True])
@pytest.mark.parametrize("kind", list(_math.ACT_CODES))
def test_channel_epilogue_kernel(lib, rng, kind, vec):
    alpha, beta = {"clip": (-0.5, 1.5), "leaky_relu": (0.1, 0.0), "hard_sigmoid": (0.2, 0.5), "elu": (0.7, 0.0)}.get(
        kind, (0.0, 0.0))
    x = (3 * rng.standard_normal((2, 5, 4, 3))).astype(np.float32)
    scale, shift = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    res = rng.standard_normal(x.shape).astype(np.float32)
    y = nan(x.shape)
    plane = 12
    fn = lib["epilogue.cu"].fc_channel_epilogue_vec4 if vec else lib["epilogue.cu"].fc_channel_epilogue
    div = 4 if vec else 1
    fn(P(x), P(y), P(scale), P(shift), P(res), L(x.size // div), I(5), L(plane // div), *act_args(kind, alpha, beta))
    b = lambda t: t.astype(np.float64)[None, :, None, None]
    ref = activation_ref(kind, x * b(scale) + b(shift) + res, alpha, beta)
    np.testing.assert_allclose(y, ref, rtol=2e-6, atol=2e-6)
    z = x.copy()   # in place, no scale/shift/residual: the conv epilogue with bias only
    fn(P(z), P(z), None, P(shift), None, L(x.size // div), I(5), L(plane // div), *act_args(kind, alpha, beta))
    np.testing.assert_allclose(z, activation_ref(kind, x + b(shift), alpha, beta), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("h, w, k, s, p, d, ceil", [(9, 10, (3, 2), (2, 1), (1, 0, 1, 1), (1, 2), True),
                                                    (7, 7, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), False),
                                                    (1, 1, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), False)])
def test_pool_kernels(lib, rng, h, w, k, s, p, d, ceil):
    x = rng.standard_normal((2, 3, h, w)).astype(np.float32)
    oh = _geometry.pool_output_size(h, k[0], s[0], p[0], p[2], d[0], ceil)
    ow = _geometry.pool_output_size(w, k[1], s[1], p[1], p[3], d[1], ceil)
    y = nan((2, 3, oh, ow))
    lib["pool.cu"].fc_max_pool2d(P(x), P(y), L(6), I(h), I(w), I(k[0]), I(k[1]), I(s[0]), I(s[1]), I(d[0]), I(d[1]),
                                 I(p[0]), I(p[1]), I(oh), I(ow))
    np.testing.assert_array_equal(y, _math.max_pool2d(np, x, k, s, p, d, (oh, ow)))
    oh = _geometry.pool_output_size(h, k[0], s[0], p[0], p[2], 1, ceil)
    ow = _geometry.pool_output_size(w, k[1], s[1], p[1], p[3], 1, ceil)
    for include in (0, 1):
        y = nan((2, 3, oh, ow))
        lib["pool.cu"].fc_avg_pool2d(P(x), P(y), L(6), I(h), I(w), I(k[0]), I(k[1]), I(s[0]), I(s[1]), I(p[0]),
                                     I(p[1]), I(p[2]), I(p[3]), I(oh), I(ow), I(include))
        ref = _math.avg_pool2d(np, x.astype(np.float64), k, s, p, (oh, ow), bool(include))
        assert rel_err(y, ref) <= RTOL


def test_max_pool_kernel_propagates_nan(lib):
    x = np.array([[[[1, np.nan], [3, 2]]]], np.float32)
    y = nan((1, 1, 1, 1))
    lib["pool.cu"].fc_max_pool2d(P(x), P(y), L(1), I(2), I(2), I(2), I(2), I(2), I(2), I(1), I(1), I(0), I(0), I(1),
                                 I(1))
    assert np.isnan(y).all()


@pytest.mark.parametrize("log", [0, 1])
@pytest.mark.parametrize("shape, axis", [((3, 50), 1), ((2, 5, 3, 4), 1), ((4, 3, 2), 0)])
def test_softmax_kernels(lib, rng, shape, axis, log):
    x = (10 * rng.standard_normal(shape)).astype(np.float32)
    outer, length = int(np.prod(shape[:axis])), shape[axis]
    inner = int(np.prod(shape[axis + 1:]))
    y = nan(shape)
    if inner == 1:   # blockDim 1: the block reductions reduce one partial each
        lib["softmax.cu"].fc_softmax_lastaxis(P(x), P(y), L(outer), L(length), I(log))
    else:
        lib["softmax.cu"].fc_softmax_strided(P(x), P(y), L(outer), L(length), L(inner), I(log))
    assert rel_err(y, _math.softmax(np, x.astype(np.float64), axis, bool(log))) <= RTOL


@pytest.mark.parametrize("size", [1, 2, 5])
def test_lrn_kernel(lib, rng, size):
    x = rng.standard_normal((2, 7, 3, 4)).astype(np.float32)
    y = nan(x.shape)
    lib["lrn.cu"].fc_lrn(P(x), P(y), I(2), I(7), L(12), I(size), F(1e-2), F(0.75), F(2.0))
    assert rel_err(y, _math.lrn(np, x.astype(np.float64), size, 1e-2, 0.75, 2.0)) <= RTOL


def test_gpu_suite_passes_under_emulation():
    """tests/gpu end to end on tests/fake_cupy.py: plans, chunking, launch arguments and layers
    through the real Python path, kernels compiled for the CPU. (On a GPU machine tests/gpu runs
    for real instead; this run is then redundant but cheap.)"""
    env = dict(os.environ, FASTCONV_GPU_EMULATE="1")
    root = pathlib.Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/gpu"],
                         cwd=root, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout


_BENCH_ON_STAND_IN = """
import runpy, sys
import pytest, fake_cupy
fake_cupy.install(pytest.MonkeyPatch().setitem)
sys.argv = ["bench_gpu.py", "--quick", "--repeats", "1"]
runpy.run_path("bench/bench_gpu.py", run_name="__main__")
"""


def test_gpu_benchmark_script_runs_on_the_stand_in():
    """bench/bench_gpu.py (what bench/gpu_check.sh runs on a lent GPU, where device time is short)
    end to end on tests/fake_cupy.py, so a slip in the script shows here rather than there: its
    correctness table checks every kernel against the CPU engine and must pass. Timings are the
    emulation's and mean nothing; the cuDNN columns need PyTorch on a GPU and read n/a."""
    root = pathlib.Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "tests"), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-c", _BENCH_ON_STAND_IN], cwd=root, env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    for table in ("## 1. Correctness", "## 2. Conv layers", "## 3. Networks", "## 4. Memory-bound", "## Summary"):
        assert table in run.stdout, run.stdout[-2000:]
    assert "| ResNet-50 batch 1 |" in run.stdout and "**NO**" not in run.stdout


@pytest.mark.parametrize("take_max", [0, 1])
@pytest.mark.parametrize("planes, plane", [(6, 49), (3, 1), (2, 1000)])
def test_global_pool_kernel(lib, rng, planes, plane, take_max):
    x = rng.standard_normal((planes, plane)).astype(np.float32)
    y = nan(planes)
    lib["pool.cu"].fc_global_pool(P(x), P(y), L(planes), L(plane), I(take_max))
    ref = x.astype(np.float64).max(axis=1) if take_max else x.astype(np.float64).mean(axis=1)
    assert rel_err(y, ref) <= RTOL


def test_arrays_on_another_gpu_are_refused(monkeypatch, rng):
    """The device checks, with a fake array posing as memory on GPU 1 (the real two-GPU case is in
    tests/gpu and needs two devices)."""
    import fake_cupy
    import fastconv.gpu as fg
    fake_cupy.install(monkeypatch.setitem)
    _backend.clear_caches()
    plan = fg.ConvPlan(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    x = fake_cupy.asarray(rng.standard_normal((1, 3, 5, 5)).astype(np.float32))
    other = x.copy()
    other._device_id = 1
    with pytest.raises(ValueError, match="x is on GPU 1, but this operation runs on GPU 0"):
        plan(other)
    with pytest.raises(ValueError, match="residual is on GPU 1"):
        plan(x, residual=_on_gpu1(fake_cupy, (1, 4, 3, 3)))
    with pytest.raises(ValueError, match="out is on GPU 1"):
        plan(x, out=_on_gpu1(fake_cupy, (1, 4, 3, 3)))
    with pytest.raises(ValueError, match="out is on GPU 0, but this operation runs on GPU 1"):
        fg.max_pool2d(other, 2, out=fake_cupy.empty((1, 3, 2, 2)))   # layers run where x lives
    assert plan(x).shape == (1, 4, 3, 3)
    _backend.clear_caches()


def _on_gpu1(fake_cupy, shape):
    a = fake_cupy.zeros(shape)
    a._device_id = 1
    return a


def test_flat_index_division_on_both_sides_of_2_to_the_31(tmp_path):
    """fc_div/fc_mod (kernels/common.cuh) take a 32-bit shortcut below 2^31: exact on both paths."""
    src = tmp_path / "div.cc"
    src.write_text(_backend.kernel_source("epilogue.cu") + """
extern "C" long long t_div(long long a, long long b) { return fc_div(a, b); }
extern "C" long long t_mod(long long a, long long b) { return fc_mod(a, b); }
""")
    so = tmp_path / "div.so"
    subprocess.run([CXX, "-std=c++14", "-O1", "-shared", "-fPIC", "-include", str(SHIM), str(src), "-o", str(so)],
                   check=True)
    lib = ctypes.CDLL(str(so))
    lib.t_div.restype = lib.t_mod.restype = ctypes.c_longlong
    for a in (0, 5, 2**31 - 1, 2**31, 2**32 + 7, 3 * 2**40 + 12345):
        for b in (1, 7, 49, 3136, 2**31 - 1, 2**31, 2**33):
            assert lib.t_div(L(a), L(b)) == a // b, (a, b)
            assert lib.t_mod(L(a), L(b)) == a % b, (a, b)

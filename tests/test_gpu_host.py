"""The GPU backend's host side, on the CPU: launch geometry, algorithm choice, chunking, shapes,
and the kernels' math in array form (fastconv/gpu/_math.py under numpy) against float64
references (tests/reference.py) and onnxruntime. No CuPy device is needed.

Error bounds: the float32 array versions accumulate like the kernels do (cuBLAS-style sums of up
to C*kh*kw products), so relative L2 error vs float64 stays ~1e-7..1e-6; 1e-5 leaves margin.
Winograd F(2x2,3x3) adds at most a few ulps in its transforms (coefficients 0.5 and 1): same bound.
"""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.gpu import _backend, _geometry, _math
from reference import activation_ref, conv2d_ref, rel_err

RTOL = 1e-5


def geom(n, c, h, w, k, kh, kw, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    return _geometry.conv_geometry((n, c, h, w), (k, c // groups, kh, kw), stride, pads, dilation, groups)


# ---- launch geometry, limits, chunking ----------------------------------------------------------

def test_grid_covers_small_and_caps_huge():
    assert _geometry.grid_for(1) == ((1,), (256,))
    assert _geometry.grid_for(0) == ((1,), (256,))
    assert _geometry.grid_for(257) == ((2,), (256,))
    (blocks,), (threads,) = _geometry.grid_for(1 << 40)        # grid-stride loop covers the rest
    assert blocks == _geometry.MAX_BLOCKS and threads == 256
    with pytest.raises(ValueError, match="total"):
        _geometry.grid_for(-1)


def test_dimension_beyond_int32_is_refused():
    _geometry.check_dims((1, 2**31 - 1), "x")
    with pytest.raises(ValueError, match=r"x has shape \(1, 2147483648\)"):
        _geometry.check_dims((1, 2**31), "x")


@given(n=st.integers(1, 300), per_image=st.integers(0, 10**9), limit=st.integers(1, 2**31))
@settings(max_examples=200, deadline=None)
def test_batch_chunks_cover_every_image_within_the_limit(n, per_image, limit):
    chunks = _geometry.batch_chunks(n, per_image, limit)
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    assert all(a < b for a, b in chunks) and all(b == a2 for (_, b), (a2, _) in zip(chunks, chunks[1:]))
    assert all((b - a) * per_image <= limit or b - a == 1 for a, b in chunks)


def test_workspace_of_resnet_batch64_is_chunked():
    g = geom(64, 64, 56, 56, 64, 3, 3, pads=(1, 1, 1, 1))
    per = _geometry.workspace_per_image("im2col", g)
    assert per == 4 * 64 * 9 * 56 * 56
    assert len(_geometry.batch_chunks(64, per)) == 1          # 462 MB fits in the 1 GiB cap
    big = geom(64, 64, 224, 224, 64, 3, 3, pads=(1, 1, 1, 1))
    chunks = _geometry.batch_chunks(64, _geometry.workspace_per_image("im2col", big))
    assert len(chunks) > 1 and max(b - a for a, b in chunks) * _geometry.workspace_per_image("im2col", big) <= 1 << 30


def test_gemm_sizes_beyond_int32_are_refused():
    huge = geom(1, 1, 50000, 50000, 4, 3, 3, pads=(1, 1, 1, 1))        # 2.5e9 output pixels
    with pytest.raises(ValueError, match=r"too large for the GPU backend.*OH\*OW"):
        _geometry.check_gemm_dims("im2col", huge)
    _geometry.check_gemm_dims("depthwise", huge)                          # direct kernel: 64-bit indices
    _geometry.check_gemm_dims("im2col", geom(1, 64, 224, 224, 64, 3, 3))  # ordinary layers pass


# ---- shapes and algorithm choice ---------------------------------------------------------------

@given(h=st.integers(1, 30), w=st.integers(1, 30), kh=st.integers(1, 5), kw=st.integers(1, 5),
       s=st.integers(1, 3), d=st.integers(1, 3), p=st.tuples(*[st.integers(0, 3)] * 4))
@settings(max_examples=150, deadline=None)
def test_conv_geometry_matches_the_cpu_shape_rule(h, w, kh, kw, s, d, p):
    args = ((2, 4, h, w), (8, 4, kh, kw), s, p, d)
    try:
        want = fastconv.conv.conv_output_shape(*args)
    except ValueError:
        with pytest.raises(ValueError, match="larger than the padded input"):
            _geometry.conv_geometry((2, 4, h, w), (8, 4, kh, kw), (s, s), p, (d, d), 1)
        return
    g = _geometry.conv_geometry((2, 4, h, w), (8, 4, kh, kw), (s, s), p, (d, d), 1)
    assert (g.n, g.k, g.oh, g.ow) == want


def test_conv_geometry_refuses_channel_mismatch():
    with pytest.raises(ValueError, match=r"x has 5 channels.*expects 4"):
        _geometry.conv_geometry((1, 5, 8, 8), (8, 2, 3, 3), (1, 1), (0,) * 4, (1, 1), 2)


@pytest.mark.parametrize("shape, groups, stride, pads, dilation, want", [
    ((1, 64, 56, 56, 64, 3, 3), 1, (1, 1), (1,) * 4, (1, 1), "winograd"),      # ResNet 3x3
    ((1, 3, 224, 224, 64, 3, 3), 1, (1, 1), (1,) * 4, (1, 1), "im2col"),       # 3 channels: transforms do not pay
    ((1, 64, 56, 56, 64, 3, 3), 1, (2, 2), (1,) * 4, (1, 1), "im2col"),        # strided
    ((1, 64, 56, 56, 64, 3, 3), 1, (1, 1), (2,) * 4, (2, 2), "im2col"),        # dilated
    ((1, 64, 56, 56, 256, 1, 1), 1, (1, 1), (0,) * 4, (1, 1), "pointwise"),
    ((1, 64, 56, 56, 256, 1, 1), 1, (2, 2), (0,) * 4, (1, 1), "im2col"),       # strided 1x1 needs a gather
    ((1, 32, 112, 112, 32, 3, 3), 32, (1, 1), (1,) * 4, (1, 1), "depthwise"),
    ((1, 32, 112, 112, 64, 3, 3), 32, (2, 2), (1,) * 4, (1, 1), "depthwise"),  # multiplier 2
    ((1, 32, 16, 16, 32, 3, 3), 4, (1, 1), (1,) * 4, (1, 1), "im2col"),        # grouped, not depthwise
    ((1, 3, 227, 227, 96, 11, 11), 1, (4, 4), (0,) * 4, (1, 1), "im2col"),     # AlexNet conv1
])
def test_choose_algo(shape, groups, stride, pads, dilation, want):
    n, c, h, w, k, kh, kw = shape
    g = geom(n, c, h, w, k, kh, kw, stride, pads, dilation, groups)
    assert _geometry.choose_algo(g) == want
    assert _geometry.algo_unsupported(want, g) is None
    assert _geometry.algo_unsupported("im2col", g) is None        # the fallback runs everything


def test_forced_algo_that_cannot_run_says_why():
    g = geom(1, 8, 9, 9, 8, 3, 3, stride=(2, 2))
    assert "stride 1" in _geometry.algo_unsupported("winograd", g)
    assert "1x1" in _geometry.algo_unsupported("pointwise", g)
    assert "groups" in _geometry.algo_unsupported("depthwise", g)
    with pytest.raises(ValueError, match="unknown algo 'fft'"):
        _geometry.algo_unsupported("fft", g)


# ---- the kernels' math under numpy --------------------------------------------------------------

conv_cases = st.fixed_dictionaries({
    "n": st.integers(1, 3), "cg": st.integers(1, 5), "kg": st.integers(1, 5), "groups": st.integers(1, 3),
    "h": st.integers(1, 12), "w": st.integers(1, 12), "kh": st.integers(1, 4), "kw": st.integers(1, 4),
    "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "dilation": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "pads": st.tuples(*[st.integers(0, 2)] * 4)})


@given(case=conv_cases, seed=st.integers(0, 2**31))
@settings(max_examples=120, deadline=None)
def test_im2col_gemm_matches_reference(case, seed):
    """fc_im2col's index math + the plan's grouped batched GEMM == direct convolution."""
    c, k = case["cg"] * case["groups"], case["kg"] * case["groups"]
    try:
        g = geom(case["n"], c, case["h"], case["w"], k, case["kh"], case["kw"], case["stride"], case["pads"],
                 case["dilation"], case["groups"])
    except ValueError:
        return   # kernel larger than the padded input: refused, tested above
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((g.n, c, g.h, g.w), dtype=np.float32)
    w = rng.standard_normal((k, case["cg"], g.kh, g.kw), dtype=np.float32)
    cols = _math.im2col(np, x, g)
    y = _math.gemm_conv(np, cols, _math.grouped_weight_matrix(w, g.groups), g.oh, g.ow)
    ref = conv2d_ref(x, w, None, g.stride, g.pads, g.dilation, g.groups)
    assert y.dtype == np.float32 and y.shape == ref.shape
    assert rel_err(y, ref) <= RTOL


def test_im2col_reads_padding_as_zero_and_never_outside():
    g = geom(2, 3, 4, 5, 1, 3, 3, stride=(2, 1), pads=(2, 1, 0, 3), dilation=(1, 2))
    i = np.arange(2 * 3 * 9 * g.oh * g.ow)
    n, c, ih, iw, ok = _math.im2col_source(np, i, g)
    assert n.max() == 1 and c.max() == 2
    assert np.all((ih[ok] >= 0) & (ih[ok] < 4) & (iw[ok] >= 0) & (iw[ok] < 5))
    assert (~ok).any()   # some reads fall in the padding


@given(n=st.integers(1, 2), c=st.integers(1, 6), k=st.integers(1, 6), h=st.integers(1, 11), w=st.integers(1, 11),
       pads=st.tuples(*[st.integers(0, 2)] * 4), seed=st.integers(0, 2**31))
@settings(max_examples=100, deadline=None)
def test_winograd_f2x3_matches_reference(n, c, k, h, w, pads, seed):
    """Filter transform (cached by the plan) + input transform + 16 GEMMs + output transform."""
    if h + pads[0] + pads[2] < 3 or w + pads[1] + pads[3] < 3:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((k, c, 3, 3), dtype=np.float32)
    g = geom(n, c, h, w, k, 3, 3, pads=pads)
    th, tw = _geometry.winograd_tiles(g.oh, g.ow)
    u = _math.winograd_f2x3_filter(np, wt)
    v = _math.winograd_f2x3_input(np, x, pads[0], pads[1], th, tw)
    assert u.shape == (16, k, c) and v.shape == (16, c, n * th * tw) and u.dtype == v.dtype == np.float32
    y = _math.winograd_f2x3_output(np, _math.winograd_gemm(np, u, v), n, g.oh, g.ow, th, tw)
    ref = conv2d_ref(x, wt, None, (1, 1), pads)
    assert y.shape == ref.shape
    assert rel_err(y, ref) <= RTOL


@pytest.mark.parametrize("kind", list(_math.ACT_CODES))
def test_epilogue_math_matches_reference(kind, rng):
    alpha, beta = {"clip": (-0.5, 1.5), "leaky_relu": (0.1, 0.0), "hard_sigmoid": (0.2, 0.5), "elu": (0.7, 0.0)}.get(
        kind, (0.0, 0.0))
    x = (4 * rng.standard_normal((2, 5, 3, 7))).astype(np.float32)
    bias, res = rng.standard_normal(5).astype(np.float32), rng.standard_normal(x.shape).astype(np.float32)
    y = _math.channel_epilogue(np, x, None, bias, res, (kind, alpha, beta))
    ref = activation_ref(kind, x.astype(np.float64) + bias[None, :, None, None] + res, alpha, beta)
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)


def test_softplus_formula_does_not_overflow():
    x = np.array([-200, -30, 0, 30, 200], np.float32)
    np.testing.assert_allclose(_math.activate(np, x, "softplus"), np.logaddexp(0, x.astype(np.float64)), rtol=1e-6,
                               atol=1e-37)  # float32 underflows below 1e-38


def test_batch_norm_folded_into_conv_matches_conv_then_bn(rng):
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    gamma, beta, mean = (rng.standard_normal(5).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 2, 5).astype(np.float32)
    eps = 1e-3
    scale, shift = _math.fold_batch_norm(np, gamma, beta, mean, var, eps)
    wf, bf = _math.fold_into_conv(w, b, scale, shift)
    y = conv2d_ref(x, wf, bf, pads=(1, 1, 1, 1))
    z = conv2d_ref(x, w, b, pads=(1, 1, 1, 1))
    bn = lambda t: t.astype(np.float64)[None, :, None, None]
    ref = (z - bn(mean)) / np.sqrt(bn(var) + eps) * bn(gamma) + bn(beta)
    assert rel_err(y, ref) <= RTOL
    wf, bf = _math.fold_into_conv(w, None, scale, shift)      # a conv without bias
    ref = (conv2d_ref(x, w, None, pads=(1, 1, 1, 1)) - bn(mean)) / np.sqrt(bn(var) + eps) * bn(gamma) + bn(beta)
    assert rel_err(conv2d_ref(x, wf, bf, pads=(1, 1, 1, 1)), ref) <= RTOL


# ---- pooling, softmax, LRN against onnxruntime (a reference nobody here wrote) ------------------

def ort_run(op, x, opset=19, **attrs):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


pool_cases = st.fixed_dictionaries({
    "h": st.integers(1, 12), "w": st.integers(1, 12), "k": st.tuples(st.integers(1, 4), st.integers(1, 4)),
    "s": st.tuples(st.integers(1, 3), st.integers(1, 3)), "d": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "p": st.tuples(*[st.integers(0, 1)] * 4), "ceil": st.booleans()})


def _pool_ok(c, dil):
    eff = [dil[i] * (c["k"][i] - 1) + 1 for i in range(2)]
    pads_ok = all(c["p"][i] < eff[i % 2] and c["p"][i] * 2 <= eff[i % 2] for i in range(4))  # no all-padding windows
    return pads_ok and c["h"] + c["p"][0] + c["p"][2] >= eff[0] and c["w"] + c["p"][1] + c["p"][3] >= eff[1]


@given(c=pool_cases, seed=st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_max_pool_math_and_shape_match_onnxruntime(c, seed):
    if not _pool_ok(c, c["d"]):
        return
    x = np.random.default_rng(seed).standard_normal((2, 3, c["h"], c["w"])).astype(np.float32)
    pt, pl, pb, pr = c["p"]
    ref = ort_run("MaxPool", x, kernel_shape=list(c["k"]), strides=list(c["s"]), dilations=list(c["d"]),
                  pads=[pt, pl, pb, pr], ceil_mode=int(c["ceil"]))
    oh = _geometry.pool_output_size(c["h"], c["k"][0], c["s"][0], pt, pb, c["d"][0], c["ceil"])
    ow = _geometry.pool_output_size(c["w"], c["k"][1], c["s"][1], pl, pr, c["d"][1], c["ceil"])
    assert (oh, ow) == ref.shape[2:]
    if (ref == np.finfo(np.float32).min).any():
        return   # a window wholly in the padding: onnxruntime writes -FLT_MAX, we (as PyTorch) -inf
    y = _math.max_pool2d(np, x, c["k"], c["s"], c["p"], c["d"], (oh, ow))
    np.testing.assert_array_equal(y, ref)   # max is exact


@given(c=pool_cases, include=st.booleans(), seed=st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_avg_pool_math_and_shape_match_onnxruntime(c, include, seed):
    if not _pool_ok(c, (1, 1)):
        return
    x = np.random.default_rng(seed).standard_normal((2, 3, c["h"], c["w"])).astype(np.float32)
    pt, pl, pb, pr = c["p"]
    ref = ort_run("AveragePool", x, kernel_shape=list(c["k"]), strides=list(c["s"]), pads=[pt, pl, pb, pr],
                  ceil_mode=int(c["ceil"]), count_include_pad=int(include))
    oh = _geometry.pool_output_size(c["h"], c["k"][0], c["s"][0], pt, pb, 1, c["ceil"])
    ow = _geometry.pool_output_size(c["w"], c["k"][1], c["s"][1], pl, pr, 1, c["ceil"])
    assert (oh, ow) == ref.shape[2:]
    y = _math.avg_pool2d(np, x, c["k"], c["s"], c["p"], (oh, ow), include)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape, axis", [((3, 10), -1), ((2, 5, 3, 4), 1), ((2, 1000), 1), ((4, 3, 2), 0)])
def test_softmax_math_matches_onnxruntime(shape, axis, rng):
    x = (10 * rng.standard_normal(shape)).astype(np.float32)
    np.testing.assert_allclose(_math.softmax(np, x, axis), ort_run("Softmax", x, opset=13, axis=axis), rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(_math.softmax(np, x, axis, log=True), ort_run("LogSoftmax", x, opset=13, axis=axis),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [1, 3, 5, 9])
def test_lrn_math_matches_onnxruntime(size, rng):
    x = rng.standard_normal((2, 7, 4, 5)).astype(np.float32)
    ref = ort_run("LRN", x, opset=13, size=size, alpha=1e-2, beta=0.75, bias=2.0)
    np.testing.assert_allclose(_math.lrn(np, x, size, 1e-2, 0.75, 2.0), ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("size", [2, 4])
def test_lrn_math_even_size_matches_the_onnx_definition(size, rng):
    """onnxruntime refuses even sizes; the ONNX text defines the window as
    [c - floor((size-1)/2), c + ceil((size-1)/2)], written out here in float64."""
    x = rng.standard_normal((2, 6, 3, 3)).astype(np.float32)
    x64, c = x.astype(np.float64), x.shape[1]
    ref = np.empty_like(x64)
    for ch in range(c):
        lo, hi = max(0, ch - (size - 1) // 2), min(c - 1, ch + -(-(size - 1) // 2))
        ref[:, ch] = x64[:, ch] / (2.0 + 1e-2 / size * (x64[:, lo:hi + 1] ** 2).sum(axis=1)) ** 0.75
    np.testing.assert_allclose(_math.lrn(np, x, size, 1e-2, 0.75, 2.0), ref, rtol=1e-5, atol=1e-7)


# ---- without a usable GPU -----------------------------------------------------------------------

def test_import_fastconv_never_imports_cupy():
    code = "import sys, fastconv, fastconv.gpu; assert 'cupy' not in sys.modules, 'cupy was imported'"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_missing_cupy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)    # makes `import cupy` raise ImportError
    import fastconv.gpu as fg
    assert fg.is_available() is False
    with pytest.raises(ImportError, match=r"pip install fastconv\[gpu\]"):
        fg.conv2d(np.zeros((1, 1, 3, 3), np.float32), np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ImportError, match=r"pip install fastconv\[gpu\]"):
        fg.max_pool2d(np.zeros((1, 1, 3, 3), np.float32), 2)


@pytest.mark.skipif(_backend.is_available(), reason="a CUDA device is present; tests/gpu covers it")
def test_no_driver_is_an_import_error_naming_the_extra():
    pytest.importorskip("cupy", reason="CuPy is not installed (the missing-CuPy case is tested above)")
    import fastconv.gpu as fg
    with pytest.raises(ImportError, match=r"pip install fastconv\[gpu\]"):
        fg.ConvPlan(np.zeros((1, 1, 3, 3), np.float32))


def test_gpu_arrays_go_to_the_gpu_or_are_refused(monkeypatch):
    """A GPU array (anything with __cuda_array_interface__) sent to the CPU engine is refused with
    a TypeError saying where it runs, never read as host memory; with device left as None it goes
    to fastconv.gpu (here without CuPy: ImportError naming the extra)."""
    class FakeDeviceArray:
        __cuda_array_interface__ = {}
    w = np.zeros((1, 1, 1, 1), np.float32)
    with pytest.raises(TypeError, match="x is a GPU array, and this runs on the CPU.*fastconv.gpu"):
        fastconv.conv2d(FakeDeviceArray(), w, device="cpu")
    with pytest.raises(TypeError, match="weight is a GPU array"):
        fastconv.conv2d(np.zeros((1, 1, 2, 2), np.float32), FakeDeviceArray())
    with pytest.raises(TypeError, match="is a GPU array"):   # no GPU version: refused, not copied silently
        fastconv.add(FakeDeviceArray(), w)
    monkeypatch.setitem(sys.modules, "cupy", None)   # `import cupy` raises ImportError
    _backend.clear_caches()
    try:
        for call in (lambda: fastconv.conv2d(FakeDeviceArray(), w), lambda: fastconv.relu(w, device="cuda"),
                     lambda: fastconv.ConvPlan(w, device="cuda")):
            with pytest.raises(ImportError, match=r"pip install fastconv\[gpu\]"):
                call()
    finally:
        _backend.clear_caches()

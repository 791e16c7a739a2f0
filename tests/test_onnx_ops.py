"""The ONNX operators that call fastconv's kernels (Conv 1-D/2-D with auto_pad, groups, dilations;
ConvTranspose; Gemm/MatMul as dense layers), on every ISA level, against float64 references.

Bound: fp32 accumulation over at most a few hundred products: relative errors ~1e-6; 2e-5 (max-abs
error over max-abs value) leaves room for summation order, not for a wrong tap (~1e-1)."""
import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX import needs the optional onnx package")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import helper  # noqa: E402

from fastconv.onnx import InferenceSession  # noqa: E402
from onnx_graphs import model  # noqa: E402
from reference import conv2d_ref  # noqa: E402

TOL = 2e-5


def _close(got, want):
    want = np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert not np.isnan(got).any()
    err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
    assert err < TOL, err


def _same_pads(size, k, s, d, upper):
    out = -(-size // s)
    total = max(0, (out - 1) * s + d * (k - 1) + 1 - size)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


def _run(nodes, inputs, inits, feeds, optimize):
    m = model(nodes, inputs, [("y", None)], inits)
    sess = InferenceSession(m, optimize=optimize)
    first = sess.run(None, feeds)[0]
    second = sess.run(None, feeds)[0]  # the memory-planned run
    np.testing.assert_array_equal(first, second)
    return first


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 2), groups=st.sampled_from([1, 2, 3]), cpg=st.integers(1, 5), kpg=st.integers(1, 4),
       h=st.integers(1, 9), w=st.integers(1, 9), k=st.sampled_from([(1, 1), (3, 3), (2, 3), (5, 1)]),
       s=st.sampled_from([(1, 1), (2, 2), (1, 3)]), d=st.sampled_from([(1, 1), (2, 1)]),
       auto=st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]), pads=st.tuples(*[st.integers(0, 2)] * 4),
       optimize=st.booleans(), seed=st.integers(0, 2**31))
def test_conv2d(isa, n, groups, cpg, kpg, h, w, k, s, d, auto, pads, optimize, seed):
    rng = np.random.default_rng(seed)
    c, kk = groups * cpg, groups * kpg
    eh, ew = d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1
    if auto == "SAME_UPPER" or auto == "SAME_LOWER":
        (pt, pb), (pl, pr) = _same_pads(h, k[0], s[0], d[0], auto == "SAME_UPPER"), \
            _same_pads(w, k[1], s[1], d[1], auto == "SAME_UPPER")
    elif auto == "VALID":
        pt = pl = pb = pr = 0
    else:
        pt, pl, pb, pr = pads
    if h + pt + pb < eh or w + pl + pr < ew:
        return
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((kk, cpg) + k).astype(np.float32)
    b = rng.standard_normal(kk).astype(np.float32)
    attrs = dict(strides=list(s), dilations=list(d), group=groups, auto_pad=auto)
    if auto == "NOTSET":
        attrs["pads"] = list(pads)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], **attrs), helper.make_node("Relu", ["c"], ["y"])]
    got = _run(nodes, [("x", ["N", c, "H", "W"])], {"w": wt, "b": b}, {"x": x}, optimize)
    want = np.maximum(conv2d_ref(x, wt, b, s, (pt, pl, pb, pr), d, groups), 0)
    _close(got, want)


@pytest.mark.parametrize("auto", ["NOTSET", "SAME_UPPER", "VALID"])
def test_conv1d_is_conv2d_with_unit_height(isa, rng, auto):
    x = rng.standard_normal((2, 4, 11)).astype(np.float32)
    wt = rng.standard_normal((6, 2, 3)).astype(np.float32)
    attrs = dict(strides=[2], dilations=[2], group=2, auto_pad=auto)
    if auto == "NOTSET":
        attrs["pads"] = [1, 2]
    got = _run([helper.make_node("Conv", ["x", "w"], ["y"], **attrs)], [("x", [2, 4, 11])], {"w": wt}, {"x": x}, True)
    pads = {"NOTSET": (1, 2), "SAME_UPPER": _same_pads(11, 3, 2, 2, True), "VALID": (0, 0)}[auto]
    want = conv2d_ref(x[:, :, None], wt[:, :, None], None, (1, 2), (0, pads[0], 0, pads[1]), (1, 2), 2)[:, :, 0]
    _close(got, want)


def _conv_transpose_ref(x, w, stride, pads, dilation, out_pad, groups):
    """Scatter form, float64: every input pixel adds w * x to the outputs its taps reach."""
    n, c, h, wd = x.shape
    _, kg, kh, kw = w.shape
    cg = c // groups
    oh = stride[0] * (h - 1) + out_pad[0] + dilation[0] * (kh - 1) + 1
    ow = stride[1] * (wd - 1) + out_pad[1] + dilation[1] * (kw - 1) + 1
    y = np.zeros((n, kg * groups, oh, ow))
    for g in range(groups):
        for i in range(h):
            for j in range(wd):
                for r in range(kh):
                    for q in range(kw):
                        y[:, g * kg:(g + 1) * kg, i * stride[0] + r * dilation[0], j * stride[1] + q * dilation[1]] += \
                            np.einsum("nc,ck->nk", x[:, g * cg:(g + 1) * cg, i, j], w[g * cg:(g + 1) * cg, :, r, q])
    return y[:, :, pads[0]:oh - pads[2], pads[1]:ow - pads[3]]


@pytest.mark.parametrize("stride,pads,dilation,out_pad,groups", [
    ((1, 1), (0, 0, 0, 0), (1, 1), (0, 0), 1),
    ((2, 2), (1, 1, 1, 1), (1, 1), (1, 1), 1),
    ((3, 2), (0, 1, 2, 0), (2, 1), (0, 1), 2),
])
def test_conv_transpose(isa, rng, stride, pads, dilation, out_pad, groups):
    x = rng.standard_normal((2, 4, 5, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(3 * groups).astype(np.float32)
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], strides=list(stride), pads=list(pads),
                            dilations=list(dilation), output_padding=list(out_pad), group=groups)
    got = _run([node], [("x", [2, 4, 5, 4])], {"w": w, "b": b}, {"x": x}, True)
    want = _conv_transpose_ref(x, w, stride, pads, dilation, out_pad, groups) + b[None, :, None, None]
    _close(got, want)


@pytest.mark.parametrize("trans_a,trans_b,alpha,beta,c_shape", [
    (0, 0, 1.0, 1.0, (7,)), (0, 1, 0.5, 2.0, (1, 7)), (1, 0, 1.0, 1.0, (5, 7)), (0, 1, 1.0, 0.0, (7,)),
    (1, 1, 2.0, 1.0, (5, 1)), (0, 0, 1.0, 1.0, None)])
@pytest.mark.parametrize("b_constant", [True, False])
def test_gemm(isa, rng, trans_a, trans_b, alpha, beta, c_shape, b_constant):
    a = rng.standard_normal((9, 5) if trans_a else (5, 9)).astype(np.float32)
    b = rng.standard_normal((7, 9) if trans_b else (9, 7)).astype(np.float32)
    ins = ["a", "b"] + (["c"] if c_shape else [])
    inits = {"c": rng.standard_normal(c_shape).astype(np.float32)} if c_shape else {}
    feeds = {"a": a}
    inputs = [("a", list(a.shape))]
    if b_constant:
        inits["b"] = b
    else:
        feeds["b"] = b
        inputs.append(("b", list(b.shape)))
    node = helper.make_node("Gemm", ins, ["y"], transA=trans_a, transB=trans_b, alpha=alpha, beta=beta)
    got = _run([node], inputs, inits, feeds, True)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = alpha * ((a64.T if trans_a else a64) @ (b64.T if trans_b else b64))
    if c_shape:
        want = want + beta * inits["c"]
    _close(got, want)


@pytest.mark.parametrize("a_shape,b_shape", [((3, 4, 6), (6, 5)), ((6,), (6, 5)), ((2, 1, 4, 6), (3, 6, 2)),
                                             ((4, 6), (6,))])
def test_matmul(isa, rng, a_shape, b_shape):
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    got = _run([helper.make_node("MatMul", ["a", "b"], ["y"])], [("a", list(a_shape))], {"b": b}, {"a": a}, True)
    _close(got, np.matmul(a.astype(np.float64), b))

"""The channel-blocked (NCHW16c) path: the direct convolution, the layout copies, blocked pooling,
and the optimizer pass that runs chains of layers blocked (csrc/conv/conv-nchwc.cc,
csrc/conv/convc-tile.h, csrc/pool/pool-blocked.h, onnx/_optimize.block_layout).

Error bound of the convolution: it sums C*kh*kw fp32 products directly (no transform), so its
relative L2 error against the float64 reference stays near sqrt(K) * 2^-24 (~1e-6 for these
depths); 1e-5 leaves room without letting a wrong tap or lane pass (those give errors of ~1e-1)."""
import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv import _C
from fastconv.onnx import _optimize
from fastconv.onnx._ir import Graph, Node
from conftest import poisoned
from onnx_graphs import model, ort_run, rel_l2
from reference import activation_ref, conv2d_ref, rel_err

B = 16


def blocked(x):
    n, c, h, w = x.shape
    out = poisoned((n, c // B, h, w, B))
    _C.to_blocked(np.ascontiguousarray(x, np.float32), out)
    return out


def unblocked(y):
    n, cb, h, w, _ = y.shape
    out = poisoned((n, cb * B, h, w))
    _C.from_blocked(y, out)
    return out


def test_layout_copies_round_trip_exactly(rng):
    x = rng.standard_normal((2, 48, 5, 7)).astype(np.float32)
    xb = blocked(x)
    # element (b, c, i, j) at block c // 16, lane c % 16
    assert xb[1, 2, 3, 4, 5] == x[1, 2 * B + 5, 3, 4]
    np.testing.assert_array_equal(unblocked(xb), x)


def test_layout_copy_into_a_concat_part(rng):
    x = rng.standard_normal((2, 16, 3, 3)).astype(np.float32)
    whole = poisoned((2, 3, 3, 3, B))
    _C.to_blocked(x, whole[:, 1:2])
    np.testing.assert_array_equal(whole[:, 1:2], blocked(x))
    assert np.isnan(whole[:, 0]).all() and np.isnan(whole[:, 2]).all()


def test_layout_copies_refuse_bad_input():
    with pytest.raises(ValueError, match="multiple of 16"):
        _C.to_blocked(np.zeros((1, 20, 2, 2), np.float32), np.zeros((1, 1, 2, 2, 16), np.float32))
    with pytest.raises(ValueError, match="shape"):
        _C.to_blocked(np.zeros((1, 32, 2, 2), np.float32), np.zeros((1, 1, 2, 2, 16), np.float32))
    with pytest.raises(ValueError, match="blocked"):
        _C.from_blocked(np.zeros((1, 32, 2, 2), np.float32), np.zeros((1, 32, 2, 2), np.float32))


# (n, c, h, w, k, kernel, stride, pads, dilation): 1x1 merged rows, padded 1x1 (taps cut per
# position), strides 2 and 3 (3 runs one position a tile), dilation, asymmetric padding, 1x1
# images, channel counts that fill no whole output group, batch > 1.
CASES = [
    (1, 64, 9, 9, 256, 1, 1, (0, 0, 0, 0), 1),
    (2, 32, 7, 5, 48, 1, 1, (1, 0, 0, 2), 1),
    (1, 16, 11, 13, 32, 1, 2, (0, 0, 0, 0), 1),
    (2, 16, 9, 11, 80, 3, 2, (1, 1, 1, 1), 1),
    (1, 48, 13, 13, 16, 3, 1, (1, 0, 2, 1), 2),
    (1, 16, 20, 17, 64, 5, 3, (2, 2, 2, 2), 1),
    (1, 32, 1, 1, 48, 3, 1, (1, 1, 1, 1), 1),
    (3, 32, 14, 14, 16, 7, 1, (3, 3, 3, 3), 1),
]


def check_blocked_conv(rng, case, act, nchw_input=False, groups=1):
    """One layer on blocked tensors against the reference, residual added, output poisoned;
    nchw_input: x given as NCHW (a first layer)."""
    n, c, h, w, k, ks, s, pads, d = case
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((k, c // groups, ks, ks)) / np.sqrt(c // groups * ks * ks)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    plan = fastconv.ConvPlan(wt, b, stride=s, padding=pads, dilation=d, groups=groups, activation=act)
    ref = conv2d_ref(x, wt, b, (s, s), pads, (d, d), groups=groups)
    res = rng.standard_normal(ref.shape).astype(np.float32)
    kind, *params = (act,) if isinstance(act, str) or act is None else act
    ref = activation_ref(kind, ref + res, *params) if kind else ref + res
    y = poisoned((n, k // B) + ref.shape[2:] + (B,))
    plan._plan.run_blocked(x if nchw_input else blocked(x), y, blocked(res))
    assert not np.isnan(y).any()
    assert rel_err(unblocked(y), ref) < 1e-5


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("act", [None, "relu", ("leaky_relu", 0.1), "sigmoid"])
def test_blocked_conv_matches_reference(isa, rng, case, act):
    check_blocked_conv(rng, case, act)


# NCHW input (a first layer): (n, c, h, w, k, kernel, stride, pads, dilation). ResNet's and
# SqueezeNet's stems, channel counts of no vector width, 1x1 merged rows, stride 3, dilation,
# a 1x1 image, batch > 1.
NCHW_INPUT_CASES = [
    (1, 3, 23, 21, 64, 7, 2, (3, 3, 3, 3), 1),
    (2, 3, 17, 19, 64, 3, 2, (0, 0, 0, 0), 1),
    (1, 5, 9, 9, 32, 3, 1, (1, 1, 1, 1), 1),
    (2, 24, 6, 7, 48, 1, 1, (0, 0, 0, 0), 1),
    (1, 3, 11, 12, 16, 5, 3, (1, 2, 0, 1), 1),
    (1, 7, 13, 13, 16, 3, 1, (2, 2, 2, 2), 2),
    (1, 3, 1, 1, 80, 3, 1, (1, 1, 1, 1), 1),
]


@pytest.mark.parametrize("case", NCHW_INPUT_CASES)
@pytest.mark.parametrize("act", [None, "relu"])
def test_blocked_conv_from_nchw_input_matches_reference(isa, rng, case, act):
    """The input NCHW (one channel per block), the output blocked: the same bound as above."""
    check_blocked_conv(rng, case, act, nchw_input=True)


# Grouped layers with whole blocks per group (AlexNet's 5x5 and 3x3 at groups 2): (case, groups).
GROUPED_CASES = [
    ((1, 96, 13, 13, 256, 5, 1, (2, 2, 2, 2), 1), 2),
    ((2, 64, 9, 7, 64, 3, 1, (1, 1, 1, 1), 1), 4),      # one block in and out per group
    ((1, 32, 12, 12, 96, 3, 2, (1, 0, 1, 0), 1), 2),     # 48 outputs per group: three blocks, cb 2 + 1
    ((1, 64, 7, 7, 128, 1, 1, (0, 0, 0, 0), 1), 2),      # 1x1 merged rows
    ((1, 32, 1, 1, 32, 3, 1, (1, 1, 1, 1), 1), 2),       # a 1x1 image
]


@pytest.mark.parametrize("case, groups", GROUPED_CASES)
@pytest.mark.parametrize("act", [None, "relu"])
def test_blocked_grouped_conv_matches_reference(isa, rng, case, groups, act):
    """Each group reads its own input blocks and writes its own output blocks: a group reading its
    neighbour's channels, or weights packed across groups, gives errors of ~1, not 1e-5."""
    check_blocked_conv(rng, case, act, groups=groups)


@pytest.mark.parametrize("k,ks,pads", [(1000, 1, 0), (24, 3, 1), (5, 1, 0)])
def test_blocked_conv_pads_output_channels_to_whole_blocks(isa, rng, k, ks, pads):
    """Output channels that fill no whole block (a 1000-class head): the last block's padding
    lanes hold act(0) from zero weights and bias (relu: 0), every real lane the convolution."""
    x = rng.standard_normal((2, 32, 7, 6)).astype(np.float32)
    wt = (rng.standard_normal((k, 32, ks, ks)) / np.sqrt(32 * ks * ks)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    plan = fastconv.ConvPlan(wt, b, padding=pads, activation="relu")
    ref = np.maximum(conv2d_ref(x, wt, b, pads=(pads,) * 4), 0)
    kb = -(-k // B)
    y = poisoned((2, kb) + ref.shape[2:] + (B,))
    plan._plan.run_blocked(blocked(x), y)
    full = unblocked(y)
    assert rel_err(full[:, :k], ref) < 1e-5
    np.testing.assert_array_equal(full[:, k:], 0)
    pooled = poisoned((2, k, 1, 1))  # global pooling reads the real channels only
    _C.global_pool(y, pooled, "avg", blocked=True)
    np.testing.assert_allclose(pooled, ref.astype(np.float64).mean(axis=(2, 3), keepdims=True), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="blocks of x"):
        _C.global_pool(y, np.zeros((2, kb * B + 1, 1, 1), np.float32), "avg", blocked=True)


# 3x3 stride-1 layers: (n, c, h, w, k, pads). Tiles cut by the right and bottom edges, batch > 1,
# padding on one side only, an input smaller than one tile.
WINOGRAD_CASES = [(1, 16, 14, 14, 32, (1, 1, 1, 1)), (2, 32, 9, 13, 48, (1, 0, 2, 1)), (1, 16, 3, 3, 16, (0, 0, 0, 0)),
                  (1, 48, 7, 7, 16, (1, 1, 1, 1))]


@pytest.mark.parametrize("m", [2, 3, 4, 6])
@pytest.mark.parametrize("n,c,h,w,k,pads", WINOGRAD_CASES)
def test_blocked_winograd_matches_reference(isa, rng, m, n, c, h, w, k, pads):
    """Error bound: the transforms of F(m x m) scale rounding errors by up to ~1e2 for m = 6
    (its points reach +-2, +-1/2), so the bound is 1e-5 for m <= 4 and 1e-4 for m = 6; the
    measured errors are 1e-7 .. 2e-6."""
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((k, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    plan = fastconv.ConvPlan(wt, b, padding=pads, activation="relu", algo=f"winograd_{m}x{m}")
    assert plan._plan.blocked_winograd_m(h, w) == m
    ref = conv2d_ref(x, wt, b, (1, 1), pads, (1, 1))
    res = rng.standard_normal(ref.shape).astype(np.float32)
    ref = np.maximum(ref + res, 0)
    y = poisoned((n, k // B) + ref.shape[2:] + (B,))
    plan._plan.run_blocked(blocked(x), y, blocked(res))
    assert not np.isnan(y).any()
    assert rel_err(unblocked(y), ref) < (1e-4 if m == 6 else 1e-5)


def test_blocked_winograd_choice():
    plan = fastconv.ConvPlan(np.ones((16, 32, 3, 3), np.float32), None, padding=1)
    assert plan._plan.blocked_winograd_m(56, 56) == 4 and plan._plan.blocked_winograd_m(7, 7) == 2
    strided = fastconv.ConvPlan(np.ones((16, 32, 3, 3), np.float32), None, stride=2, padding=1)
    assert strided._plan.blocked_winograd_m(56, 56) == 0
    one_block = fastconv.ConvPlan(np.ones((64, 16, 3, 3), np.float32), None, padding=1)
    assert one_block._plan.blocked_winograd_m(56, 56) == 0  # 16-deep products: the direct kernel
    explicit = fastconv.ConvPlan(np.ones((16, 32, 3, 3), np.float32), None, padding=1, algo="im2col")
    assert explicit._plan.blocked_winograd_m(56, 56) == 0  # an explicit non-Winograd algorithm: direct


def test_blocked_conv_writes_into_a_concat_part(rng):
    x = rng.standard_normal((2, 16, 6, 6)).astype(np.float32)
    wt = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    plan = fastconv.ConvPlan(wt, None, padding=1)
    whole = poisoned((2, 4, 6, 6, B))
    plan._plan.run_blocked(blocked(x), whole[:, 1:3])
    assert rel_err(unblocked(np.ascontiguousarray(whole[:, 1:3])), conv2d_ref(x, wt, None, pads=(1, 1, 1, 1))) < 1e-5
    assert np.isnan(whole[:, 0]).all() and np.isnan(whole[:, 3]).all()


def test_blocked_conv_with_a_large_stride_writes_only_its_plane(isa, rng):
    """Stride 3 runs one position a tile: no wider tile (as the prefetching one) may run there."""
    x = rng.standard_normal((1, 16, 5, 8)).astype(np.float32)
    wt = rng.standard_normal((64, 16, 3, 3)).astype(np.float32)  # several output groups on every ISA
    plan = fastconv.ConvPlan(wt, None, stride=3)
    ref = conv2d_ref(x, wt, None, stride=(3, 3))
    assert ref.shape == (1, 64, 1, 2)
    whole = poisoned((1, 6, 1, 2, B))
    plan._plan.run_blocked(blocked(x), whole[:, 1:5])
    assert np.isnan(whole[:, 0]).all() and np.isnan(whole[:, 5]).all()
    assert rel_err(unblocked(np.ascontiguousarray(whole[:, 1:5])), ref) < 1e-5


def test_blocked_conv_refuses_bad_input(rng):
    plan = fastconv.ConvPlan(rng.standard_normal((32, 16, 3, 3)).astype(np.float32), None, padding=1)
    assert plan._plan.can_run_blocked
    with pytest.raises(ValueError, match="expects"):
        plan._plan.run_blocked(np.zeros((1, 2, 4, 4, B), np.float32), np.zeros((1, 2, 4, 4, B), np.float32))
    with pytest.raises(ValueError, match="blocked, 5-D"):
        plan._plan.run_blocked(np.zeros((16, 4, 4), np.float32), np.zeros((1, 2, 4, 4, B), np.float32))
    with pytest.raises(ValueError, match="expects"):  # NCHW input with the wrong channel count
        plan._plan.run_blocked(np.zeros((1, 3, 4, 4), np.float32), np.zeros((1, 2, 4, 4, B), np.float32))
    with pytest.raises(ValueError, match="shape"):
        plan._plan.run_blocked(np.zeros((1, 1, 4, 4, B), np.float32), np.zeros((1, 2, 3, 4, B), np.float32))
    grouped = fastconv.ConvPlan(rng.standard_normal((32, 8, 1, 1)).astype(np.float32), None, groups=2)
    assert not grouped._plan.can_run_blocked   # 8 input channels a group: no whole block
    with pytest.raises(ValueError, match="no blocked form"):
        grouped._plan.run_blocked(np.zeros((1, 1, 4, 4, B), np.float32), np.zeros((1, 2, 4, 4, B), np.float32))
    odd = fastconv.ConvPlan(rng.standard_normal((24, 16, 1, 1)).astype(np.float32), None)
    with pytest.raises(ValueError, match="shape"):  # 24 output channels: two blocks, not one and a half
        odd._plan.run_blocked(np.zeros((1, 1, 4, 4, B), np.float32), np.zeros((1, 1, 4, 4, B), np.float32))
    stem = fastconv.ConvPlan(rng.standard_normal((16, 3, 3, 3)).astype(np.float32), None)
    assert not stem._plan.can_run_blocked  # 3 input channels: NCHW input only
    with pytest.raises(ValueError, match="no blocked form"):
        stem._plan.run_blocked(np.zeros((1, 1, 4, 4, B), np.float32), np.zeros((1, 1, 2, 2, B), np.float32))


@pytest.mark.parametrize("kind,k,s,p,d,ceil,include", [
    ("max", 3, 2, 0, 1, True, False), ("max", 3, 1, 1, 1, False, False), ("max", 2, 2, 0, 2, False, False),
    ("avg", 3, 2, 1, 1, True, True), ("avg", 3, 1, 1, 1, False, False), ("avg", 2, 2, 0, 1, True, False),
    ("max", 5, 1, 2, 1, False, False), ("avg", 5, 2, 1, 1, True, True)])  # a width with no unrolled kernel
def test_blocked_pooling_matches_nchw_pooling(isa, rng, kind, k, s, p, d, ceil, include):
    for n, c, h, w in ((2, 32, 13, 9), (1, 16, 1, 1), (1, 48, 8, 8)):
        if (h + 2 * p) < d * (k - 1) + 1 or (w + 2 * p) < d * (k - 1) + 1:
            continue
        x = rng.standard_normal((n, c, h, w)).astype(np.float32)
        pads = (p, p, p, p)
        shape = fastconv.pooling.pool2d_output_shape(x.shape, (k, k), (s, s), pads, (d, d), ceil)
        ref = poisoned(shape)
        _C.pool2d(x, ref, kind, (k, k), (s, s), (d, d), pads, ceil, include)
        y = poisoned((n, c // B) + shape[2:] + (B,))
        _C.pool2d(blocked(x), y, kind, (k, k), (s, s), (d, d), pads, ceil, include)
        # the same taps in the same order: max exact, average within one rounding of the scale
        np.testing.assert_allclose(unblocked(y), ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_blocked_global_pooling(rng, kind):
    x = rng.standard_normal((2, 32, 5, 6)).astype(np.float32)
    y = poisoned((2, 32, 1, 1))
    _C.global_pool(blocked(x), y, kind, blocked=True)
    ref = x.max(axis=(2, 3), keepdims=True) if kind == "max" else x.astype(np.float64).mean(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def matches_ort(sess, m, rng, shapes):
    """sess equals onnxruntime on model m (every output) for inputs of these shapes, on the planned runs and on the
    replayed ones (the third run on records the kernels as one program; the fourth replays it)."""
    for shape in shapes:
        x = rng.standard_normal(shape).astype(np.float32)
        ref = ort_run(m, {"x": x})
        for _ in range(4):
            got = sess.run(None, {"x": x})
            assert [g.shape for g in got] == [r.shape for r in ref]
            assert all(rel_l2(g, r) < 1e-5 for g, r in zip(got, ref))


def fire_model(rng, c=32):
    """SqueezeNet's fire module twice, with a max pool between: 1x1 squeeze -> (1x1, 3x3) expand ->
    Concat, then a 1000-class 1x1 conv (not blockable: 1000 is no multiple of 16) and global pooling."""
    inits, nodes, last, ch = {}, [], "x", c
    nodes.append(helper.make_node("Conv", ["x", "w0"], ["s0"], pads=[1, 1, 1, 1]))
    inits["w0"] = (rng.standard_normal((c, 3, 3, 3)) * 0.3).astype(np.float32)
    last = "s0"
    for i in range(2):
        sq, e1, e3 = 16, 32, 32
        inits[f"sq{i}"] = (rng.standard_normal((sq, ch, 1, 1)) / np.sqrt(ch)).astype(np.float32)
        inits[f"e1{i}"] = (rng.standard_normal((e1, sq, 1, 1)) / 4).astype(np.float32)
        inits[f"e3{i}"] = (rng.standard_normal((e3, sq, 3, 3)) / 12).astype(np.float32)
        inits[f"b{i}"] = rng.standard_normal(e1).astype(np.float32)
        nodes += [helper.make_node("Conv", [last, f"sq{i}"], [f"q{i}"]),
                  helper.make_node("Relu", [f"q{i}"], [f"qr{i}"]),
                  helper.make_node("Conv", [f"qr{i}", f"e1{i}", f"b{i}"], [f"a{i}"]),
                  helper.make_node("Conv", [f"qr{i}", f"e3{i}"], [f"t{i}"], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"t{i}"], [f"tr{i}"]),
                  helper.make_node("Concat", [f"a{i}", f"tr{i}"], [f"f{i}"], axis=1)]
        last, ch = f"f{i}", e1 + e3
        if i == 0:
            nodes.append(helper.make_node("MaxPool", [last], ["p0"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1))
            last = "p0"
    inits["wc"] = (rng.standard_normal((1000, ch, 1, 1)) / np.sqrt(ch)).astype(np.float32)
    nodes += [helper.make_node("Conv", [last, "wc"], ["c"]), helper.make_node("GlobalAveragePool", ["c"], ["y"])]
    return model(nodes, [("x", ["N", 3, "H", "W"])], [("y", None), ("f1", None)], inits)


def test_block_layout_runs_fire_modules_blocked(rng):
    m = fire_model(rng)
    sess = fastconv.InferenceSession(m)
    ops = [(n.op, bool(n.attrs.get("_blocked"))) for n in sess.graph.nodes]
    # the stem reads the NCHW input (3 channels) and writes blocked; the fire modules, their pool and
    # concats and the 1000-channel head run blocked; one copy: the graph output f1
    assert ops.count(("Conv", True)) == 8 and ops.count(("Concat", True)) == 2 and ("MaxPool", True) in ops
    assert sess.graph.nodes[0].attrs.get("_nchw_input") and sess.graph.nodes[0].inputs[0] == "x"
    assert [op for op, _ in ops].count("_ToBlocked") == 0 and [op for op, _ in ops].count("_FromBlocked") == 1
    matches_ort(sess, m, rng, ((1, 3, 15, 15), (2, 3, 9, 12)))


def test_block_layout_runs_a_classifier_head_blocked(rng):
    """SqueezeNet's head: a 1000-class 1x1 Conv read only by global pooling runs blocked, its
    output padded to whole blocks, and the pooling writes the 1000 real channels: no copy."""
    m = fire_model(rng)
    del m.graph.output[1]  # f1 as an output would need an NCHW copy of the fire module
    sess = fastconv.InferenceSession(m)
    ops = [(n.op, bool(n.attrs.get("_blocked"))) for n in sess.graph.nodes]
    assert ops.count(("Conv", True)) == 8 and not any(op.startswith("_") for op, _ in ops)
    pool = next(n for n in sess.graph.nodes if n.op == "GlobalAveragePool")
    assert pool.attrs.get("_blocked") and pool.attrs.get("_channels") == 1000
    matches_ort(sess, m, rng, ((1, 3, 15, 15), (2, 3, 9, 12)))


def test_block_layout_leaves_a_stride_5_stem_nchw(rng):
    """Strides above 4 run one position a tile: such a first layer stays NCHW (4: AlexNet's 11x11/4
    runs blocked, test_block_layout_runs_alexnet_blocked)."""
    m = fire_model(rng)
    stem = m.graph.node[0]
    stem.attribute.append(helper.make_attribute("strides", [5, 5]))
    sess = fastconv.InferenceSession(m)
    first = sess.graph.nodes[0]
    assert first.op == "Conv" and not first.attrs.get("_blocked") and sess.graph.nodes[1].op == "_ToBlocked"
    x = rng.standard_normal((1, 3, 33, 29)).astype(np.float32)
    got, ref = sess.run(None, {"x": x}), ort_run(m, {"x": x})
    assert all(rel_l2(g, r) < 1e-5 for g, r in zip(got, ref))


def test_block_layout_leaves_graphs_that_would_mostly_copy():
    """Blockable convolutions between 3x3 layers left to Winograd would need a copy on each side."""
    w1 = np.ones((64, 64, 1, 1), np.float32)
    w3 = np.ones((64, 64, 3, 3), np.float32)
    nodes = [Node("Conv", ["x", "w1"], ["a"]), Node("Conv", ["a", "w3"], ["b"], {"pads": [1, 1, 1, 1]}),
             Node("Conv", ["b", "w1"], ["c"]), Node("Conv", ["c", "w3"], ["y"], {"pads": [1, 1, 1, 1]})]
    from fastconv.onnx._ir import ValueInfo
    g = Graph(nodes, {"w1": w1, "w3": w3}, [ValueInfo("x", np.float32, None)], [ValueInfo("y", np.float32, None)], 17)
    out = _optimize.block_layout(g)
    assert [n.op for n in out.nodes] == ["Conv"] * 4 and not any(n.attrs.get("_blocked") for n in out.nodes)


def test_blocked_pooling_refuses_bad_input():
    with pytest.raises(ValueError, match="blocked"):
        _C.pool2d(np.zeros((1, 2, 4, 4, 8), np.float32), np.zeros((1, 2, 2, 2, 8), np.float32), "max", (2, 2), (2, 2),
                  (1, 1), (0, 0, 0, 0), False, False)
    with pytest.raises(ValueError, match="shape"):
        _C.pool2d(np.zeros((1, 2, 4, 4, 16), np.float32), np.zeros((1, 2, 4, 4, 16), np.float32), "max", (2, 2),
                  (2, 2), (1, 1), (0, 0, 0, 0), False, False)
    with pytest.raises(ValueError, match="dilation"):
        _C.pool2d(np.zeros((1, 1, 5, 5, 16), np.float32), np.zeros((1, 1, 3, 3, 16), np.float32), "avg", (2, 2),
                  (1, 1), (2, 2), (0, 0, 0, 0), False, False)


def test_blocked_session_runs_from_several_threads(rng):
    """Blocked convolutions use per-thread scratch (the padded copy, Winograd's V and M)."""
    import threading

    m = fire_model(rng)
    sess = fastconv.InferenceSession(m)
    xs = [rng.standard_normal((1, 3, 13, 13)).astype(np.float32) for _ in range(6)]
    want = [ort_run(m, {"x": x})[0] for x in xs]
    errors = []

    def work(i):
        try:
            for _ in range(5):
                assert rel_l2(sess.run(None, {"x": xs[i]})[0], want[i]) < 1e-5
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("act", [("none", 0, 0), ("relu", 0, 0), ("clip", -0.5, 0.5), ("silu", 0, 0)])
@pytest.mark.parametrize("n, c, h, w", [(2, 32, 5, 7), (1, 16, 1, 1), (3, 48, 9, 4), (1, 64, 56, 56)])
def test_blocked_channel_affine_matches_nchw(isa, rng, n, c, h, w, act):
    """Batch norm on a blocked tensor: channel block * 16 + lane gets its own scale and shift
    (a lane or block mix-up gives errors of ~1, not rounding); one fma per element, as in NCHW."""
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    s, t = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    ref = activation_ref(act[0], x.astype(np.float64) * s[:, None, None] + t[:, None, None], act[1], act[2])
    y = poisoned((n, c // B, h, w, B))
    _C.channel_affine(blocked(x), y, s, t, *act, blocked=True)
    assert rel_err(unblocked(y), ref) <= 1e-6
    xb = blocked(x)   # in place, as the memory planner may run it
    _C.channel_affine(xb, xb, s, t, *act, blocked=True)
    np.testing.assert_array_equal(xb, y)


def test_blocked_channel_affine_refuses_bad_input(rng):
    xb = np.zeros((1, 2, 3, 3, B), np.float32)
    s = np.ones(32, np.float32)
    with pytest.raises(ValueError, match=r"a blocked x must be \(N, C/16, H, W, 16\)"):
        _C.channel_affine(np.zeros((1, 32, 3, 3), np.float32), np.zeros((1, 32, 3, 3), np.float32), s, s,
                          blocked=True)
    with pytest.raises(ValueError, match="scale has shape"):
        _C.channel_affine(xb, np.zeros_like(xb), s[:16], s, blocked=True)
    with pytest.raises(ValueError, match="takes scale and shift"):
        _C.channel_affine(xb, np.zeros_like(xb), s, None, blocked=True)


def dense_block_model(rng, c0=32, growth=16, layers=3, bn_channels=None):
    """DenseNet's dense block: per layer BN -> Relu -> 1x1 Conv -> BN -> Relu -> 3x3 Conv, its output
    concatenated to the block's input; the first BN (pre-activation, over the Concat) folds into
    nothing and runs on its own."""
    inits, nodes, last, ch = {}, [], "x", c0
    w = lambda *s: (rng.standard_normal(s) / np.sqrt(np.prod(s[1:]))).astype(np.float32)  # noqa: E731
    nodes.append(helper.make_node("Conv", ["x", "w0"], ["s0"], pads=[1, 1, 1, 1]))
    inits["w0"] = w(c0, 3, 3, 3)
    last = "s0"
    for i in range(layers):
        for tag, cc in ((f"a{i}", ch), (f"b{i}", 2 * growth)):
            inits[f"g{tag}"] = rng.uniform(0.5, 1.5, cc).astype(np.float32)
            inits[f"be{tag}"] = rng.standard_normal(cc).astype(np.float32) * 0.1
            inits[f"m{tag}"] = rng.standard_normal(cc).astype(np.float32) * 0.1
            inits[f"v{tag}"] = rng.uniform(0.5, 1.5, cc).astype(np.float32)
        inits[f"w1{i}"], inits[f"w3{i}"] = w(2 * growth, ch, 1, 1), w(growth, 2 * growth, 3, 3)
        nodes += [helper.make_node("BatchNormalization", [last, f"ga{i}", f"bea{i}", f"ma{i}", f"va{i}"], [f"n{i}"]),
                  helper.make_node("Relu", [f"n{i}"], [f"r{i}"]),
                  helper.make_node("Conv", [f"r{i}", f"w1{i}"], [f"c{i}"]),
                  helper.make_node("BatchNormalization", [f"c{i}", f"gb{i}", f"beb{i}", f"mb{i}", f"vb{i}"], [f"o{i}"]),
                  helper.make_node("Relu", [f"o{i}"], [f"q{i}"]),
                  helper.make_node("Conv", [f"q{i}", f"w3{i}"], [f"t{i}"], pads=[1, 1, 1, 1]),
                  helper.make_node("Concat", [last, f"t{i}"], [f"cat{i}"], axis=1)]
        last, ch = f"cat{i}", ch + growth
    nodes.append(helper.make_node("GlobalAveragePool", [last], ["y"]))
    return model(nodes, [("x", ["N", 3, "H", "W"])], [("y", None)], inits)


def test_block_layout_runs_dense_blocks_blocked(rng):
    """DenseNet's pre-activation BN (with its Relu) runs on the blocked Concat, so the whole block
    stays blocked: no copy between the layouts; equal to onnxruntime on planned and replayed runs."""
    m = dense_block_model(rng)
    sess = fastconv.InferenceSession(m)
    ops = [(n.op, bool(n.attrs.get("_blocked"))) for n in sess.graph.nodes]
    assert ops.count(("BatchNormalization", True)) == 3 and ops.count(("Conv", True)) == 7
    assert not any(op.startswith("_") for op, _ in ops)
    bn = next(n for n in sess.graph.nodes if n.op == "BatchNormalization")
    assert bn.attrs.get("_activation") == "relu"
    matches_ort(sess, m, rng, ((1, 3, 14, 14), (2, 3, 9, 12)))


def test_block_layout_keeps_a_partial_block_batch_norm_nchw(rng):
    """A BN over a channel count that fills no whole block (24 = 16 + 8) has no blocked form: the
    graph then runs NCHW (copies around each BN would cost more than blocking gains), still exact."""
    m = dense_block_model(rng, c0=24, growth=16, layers=2)
    sess = fastconv.InferenceSession(m)
    assert not any(n.op == "BatchNormalization" and n.attrs.get("_blocked") for n in sess.graph.nodes)
    x = rng.standard_normal((1, 3, 10, 10)).astype(np.float32)
    ref = ort_run(m, {"x": x})
    for _ in range(4):
        assert rel_l2(sess.run(None, {"x": x})[0], ref[0]) < 1e-5


def lrn_ref(x, size, alpha, beta, bias):
    """ONNX LRN in float64: window [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to the channels."""
    x = x.astype(np.float64)
    c, before = x.shape[1], (size - 1) // 2
    sq = np.zeros_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - before), min(c - 1, ch - before + size - 1)
        sq[:, ch] = (x[:, lo:hi + 1] ** 2).sum(axis=1)
    return x / (bias + alpha / size * sq) ** beta


@pytest.mark.parametrize("size", [1, 2, 3, 5, 20, 40])   # 20, 40: windows wider than one or two blocks
@pytest.mark.parametrize("n, c, h, w", [(2, 32, 5, 7), (1, 16, 1, 1), (1, 64, 28, 28)])
def test_blocked_lrn_matches_reference(isa, rng, n, c, h, w, size):
    """LRN on a blocked tensor: each channel's window reaches across block edges (lanes of the
    neighbouring blocks) and is clipped at the first and last channel; in place too."""
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    ref = lrn_ref(x, size, 1e-2, 0.75, 2.0)
    y = poisoned((n, c // B, h, w, B))
    _C.lrn(blocked(x), y, size, 1e-2, 0.75, 2.0, blocked=True)
    assert rel_err(unblocked(y), ref) <= 2e-6   # the power through exp/log: a few ulps
    xb = blocked(x)
    _C.lrn(xb, xb, size, 1e-2, 0.75, 2.0, blocked=True)
    np.testing.assert_array_equal(xb, y)
    with pytest.raises(ValueError, match=r"a blocked x must be \(N, C/16, H, W, 16\)"):
        _C.lrn(x, np.zeros_like(x), size, 1e-2, 0.75, 2.0, blocked=True)


def test_block_layout_runs_lrn_blocked(rng):
    """GoogLeNet's stem: Conv -> MaxPool -> LRN -> Conv -> Conv -> LRN -> MaxPool, all blocked (LRN
    used to need a copy on each side); equal to onnxruntime on planned and replayed runs."""
    w = lambda *s: (rng.standard_normal(s) / np.sqrt(np.prod(s[1:]))).astype(np.float32)  # noqa: E731
    inits = {"w0": w(32, 3, 3, 3), "w1": w(32, 32, 1, 1), "w2": w(48, 32, 3, 3)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["a"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("MaxPool", ["a"], ["p"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
             helper.make_node("LRN", ["p"], ["l"], size=5, alpha=1e-3, beta=0.75, bias=1.0),
             helper.make_node("Conv", ["l", "w1"], ["b"]),
             helper.make_node("Conv", ["b", "w2"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("LRN", ["c"], ["l2"], size=5, alpha=1e-3, beta=0.75, bias=1.0),
             helper.make_node("MaxPool", ["l2"], ["q"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
             helper.make_node("GlobalAveragePool", ["q"], ["y"])]
    m = model(nodes, [("x", ["N", 3, "H", "W"])], [("y", None)], inits)
    sess = fastconv.InferenceSession(m)
    ops = [(n.op, bool(n.attrs.get("_blocked"))) for n in sess.graph.nodes]
    assert ops.count(("LRN", True)) == 2 and not any(op.startswith("_") for op, _ in ops)
    matches_ort(sess, m, rng, ((1, 3, 31, 31), (2, 3, 20, 26)))


def test_block_layout_runs_alexnet_blocked(rng):
    """AlexNet's features: the 11x11/4 stem reads the NCHW image and writes blocked, LRN and pooling
    stay blocked, the grouped 5x5 and 3x3 layers run blocked per group; one copy, before the
    classifier's Flatten. Equal to onnxruntime on planned and replayed runs."""
    w = lambda *s: (rng.standard_normal(s) / np.sqrt(np.prod(s[1:]))).astype(np.float32)  # noqa: E731
    inits = {"w1": w(32, 3, 11, 11), "w2": w(64, 16, 5, 5), "w3": w(96, 64, 3, 3), "w4": w(64, 48, 3, 3),
             "b2": w(64), "fc": w(10, 64 * 3 * 3)}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], strides=[4, 4], pads=[2, 2, 2, 2]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("LRN", ["r1"], ["l1"], size=5, alpha=1e-4, beta=0.75, bias=1.0),
             helper.make_node("MaxPool", ["l1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[2, 2, 2, 2], group=2),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("Conv", ["r2", "w3"], ["c3"], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["c3", "w4"], ["c4"], pads=[1, 1, 1, 1], group=2),
             helper.make_node("MaxPool", ["c4"], ["p2"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Flatten", ["p2"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)]
    m = model(nodes, [("x", ["N", 3, 67, 67])], [("y", None)], inits)
    sess = fastconv.InferenceSession(m)
    ops = [(n.op, bool(n.attrs.get("_blocked"))) for n in sess.graph.nodes]
    assert ops.count(("Conv", True)) == 4 and ("LRN", True) in ops
    assert [op for op, _ in ops].count("_FromBlocked") == 1 and "_ToBlocked" not in [op for op, _ in ops]
    matches_ort(sess, m, rng, ((1, 3, 67, 67), (2, 3, 67, 67)))

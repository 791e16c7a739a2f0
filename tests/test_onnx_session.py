"""fastconv.InferenceSession: API, dynamic shapes and plan caching, memory planner, threads, and every
bad-input path (corrupt files, cycles, missing values, unsupported ops, wrong feeds, external data)."""
import subprocess
import sys
import threading

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX import needs the optional onnx package")
from onnx import helper  # noqa: E402

import fastconv  # noqa: E402
from fastconv.onnx import InferenceSession, OnnxLoadError  # noqa: E402
from onnx_graphs import conv_block, model, ort_run, rel_l2  # noqa: E402

# fp32 convolution over 27 products, then BN: errors ~1e-6 relative; 1e-5 leaves room for reordering.
RTOL = 1e-5


def test_api_matches_onnxruntime_conventions(rng, tmp_path):
    m = conv_block(rng)
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    x = rng.standard_normal((2, 3, 9, 7)).astype(np.float32)
    ref = ort_run(m, {"x": x})[0]
    for source in (str(path), path, m.SerializeToString(), m):
        sess = fastconv.InferenceSession(source)
        (inp,) = sess.get_inputs()
        assert (inp.name, inp.shape, inp.type) == ("x", ["N", 3, "H", "W"], "tensor(float)")
        assert [o.name for o in sess.get_outputs()] == ["y"]
        out = sess.run(None, {"x": x})
        assert isinstance(out, list) and len(out) == 1
        assert rel_l2(out[0], ref) < RTOL
        assert rel_l2(sess.run(["y"], {"x": x})[0], ref) < RTOL


@pytest.mark.parametrize("optimize", [True, False])
def test_dynamic_shapes_are_planned_once_each(rng, isa, optimize):
    m = conv_block(rng, residual=True, c=8)
    sess = InferenceSession(m, optimize=optimize)
    shapes = [(1, 8, 5, 5), (3, 8, 1, 1), (2, 8, 12, 7), (1, 8, 5, 5)]
    for shape in shapes:
        x = rng.standard_normal(shape).astype(np.float32)
        for _ in range(2):  # first run measures shapes, the second uses the memory plan
            assert rel_l2(sess.run(None, {"x": x})[0], ort_run(m, {"x": x})[0]) < RTOL
    assert len(sess._plans) == 3


def test_outputs_do_not_alias_reused_buffers(rng):
    # a chain of convs: the planner reuses buffers, yet returned arrays must stay intact
    w = [(rng.standard_normal((4, 4, 3, 3)) * 0.3).astype(np.float32) for _ in range(5)]
    nodes = [helper.make_node("Conv", ["x" if i == 0 else f"c{i}", f"w{i}"], [f"c{i + 1}" if i < 4 else "y"],
                              pads=[1, 1, 1, 1]) for i in range(5)]
    m = model(nodes, [("x", [1, 4, 6, 6])], [("y", None)], {f"w{i}": w[i] for i in range(5)})
    sess = InferenceSession(m, optimize=False)
    x1, x2 = (rng.standard_normal((1, 4, 6, 6)).astype(np.float32) for _ in range(2))
    y1 = sess.run(None, {"x": x1})[0]
    y1_copy = y1.copy()
    (plan,) = sess._plans.values()
    assert plan.slots is not None and 1 <= len(plan.slot_sizes) < 4  # 4 intermediates share fewer buffers
    for _ in range(3):
        y2 = sess.run(None, {"x": x2})[0]
    np.testing.assert_array_equal(y1, y1_copy)
    assert rel_l2(y2, ort_run(m, {"x": x2})[0]) < RTOL
    assert rel_l2(sess.run(None, {"x": x1})[0], y1_copy) == 0.0


def test_concurrent_runs_from_threads(rng):
    m = conv_block(rng, c=6, residual=True, k=6)
    sess = InferenceSession(m)
    xs = [rng.standard_normal((2, 6, 10, 10)).astype(np.float32) for _ in range(8)]
    want = [ort_run(m, {"x": x})[0] for x in xs]

    def work(i):
        for _ in range(5):
            assert rel_l2(sess.run(None, {"x": xs[i]})[0], want[i]) < RTOL

    _in_threads(work, len(xs))


def _in_threads(work, n):
    """work(i) for i < n, each on its own thread at once; fails with every error any of them raised."""
    errors = []

    def guarded(i):
        try:
            work(i)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


# -- bad feeds ----------------------------------------------------------------------------------
@pytest.fixture
def sess(rng):
    m = model([helper.make_node("Relu", ["x"], ["y"])], [("x", ["N", 3, 4])], [("y", None)])
    return InferenceSession(m)


def test_wrong_input_name(sess):
    with pytest.raises(ValueError, match=r"unknown input name\(s\) \['image'\].*'x'"):
        sess.run(None, {"image": np.zeros((1, 3, 4), np.float32)})


def test_missing_input(sess):
    with pytest.raises(ValueError, match=r"missing input\(s\) \['x'\]"):
        sess.run(None, {})


def test_wrong_dtype(sess):
    with pytest.raises(TypeError, match=r"input 'x' has dtype int32, the model expects float32"):
        sess.run(None, {"x": np.zeros((1, 3, 4), np.int32)})


def test_float64_converts(sess):
    x = np.linspace(-1, 1, 12).reshape(1, 3, 4)
    np.testing.assert_array_equal(sess.run(None, {"x": x})[0], np.maximum(x, 0).astype(np.float32))


@pytest.mark.parametrize("shape", [(1, 4, 4), (3, 4), (1, 3, 4, 1)])
def test_wrong_shape_names_expected(sess, shape):
    with pytest.raises(ValueError, match=r"input 'x' has shape .* expected \('N', 3, 4\)"):
        sess.run(None, {"x": np.zeros(shape, np.float32)})


def test_wrong_output_name(sess):
    with pytest.raises(ValueError, match=r"unknown output name\(s\) \['z'\]"):
        sess.run(["z"], {"x": np.zeros((1, 3, 4), np.float32)})


# -- bad models -----------------------------------------------------------------------------------
def test_unsupported_ops_listed_once_at_load():
    nodes = [helper.make_node("Relu", ["x"], ["a"]),
             helper.make_node("Einsum", ["a"], ["b"], equation="ij->ji", name="first_einsum"),
             helper.make_node("Einsum", ["b"], ["c"], equation="ij->ji", name="second_einsum"),
             helper.make_node("Det", ["c"], ["y"], name="det")]
    m = model(nodes, [("x", [2, 2])], [("y", None)])
    with pytest.raises(NotImplementedError) as e:
        InferenceSession(m)
    msg = str(e.value)
    assert "2 operator type(s)" in msg and "Einsum" in msg and "first_einsum" in msg and "Det" in msg
    assert "second_einsum" not in msg


@pytest.mark.parametrize("data", [b"", b"\x08", b"garbage that is not protobuf \xff\xfe", None])
def test_corrupt_or_truncated_bytes(rng, data):
    if data is None:
        data = conv_block(rng).SerializeToString()[:-37]  # truncated mid-tensor
    with pytest.raises((OnnxLoadError, NotImplementedError)):
        InferenceSession(data)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        InferenceSession(tmp_path / "nope.onnx")


def test_wrong_model_type():
    with pytest.raises(TypeError, match="model must be a path, bytes or an onnx.ModelProto"):
        InferenceSession(3.5)


def test_cycle():
    nodes = [helper.make_node("Relu", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Relu", ["b"], ["y"])]
    nodes[0] = helper.make_node("Add", ["x", "b"], ["a"])
    m = model(nodes, [("x", [2])], [("y", None)])
    with pytest.raises(OnnxLoadError, match="cycle"):
        InferenceSession(m)


def test_missing_initializer():
    m = model([helper.make_node("Conv", ["x", "w"], ["y"])], [("x", [1, 1, 3, 3])], [("y", None)])
    with pytest.raises(OnnxLoadError, match=r"reads 'w'.*missing initializer"):
        InferenceSession(m)


def test_duplicate_producer():
    nodes = [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])]
    with pytest.raises(OnnxLoadError, match="produced twice"):
        InferenceSession(model(nodes, [("x", [2])], [("y", None)]))


def test_runtime_error_names_node():
    nodes = [helper.make_node("Reshape", ["x", "s"], ["y"], name="bad_reshape")]
    m = model(nodes, [("x", ["N", 6])], [("y", None)], {"s": np.array([4, -1], np.int64)})
    sess = InferenceSession(m, optimize=False)
    with pytest.raises(RuntimeError, match="bad_reshape.*cannot reshape"):
        sess.run(None, {"x": np.zeros((1, 6), np.float32)})


# -- external data --------------------------------------------------------------------------------
def _external_model(rng, tmp_path):
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    m = model([helper.make_node("Conv", ["x", "w"], ["y"])], [("x", [1, 3, 5, 5])], [("y", None)], {"w": w})
    onnx.save(m, str(tmp_path / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)
    return m, w


def test_external_data_loads_from_model_folder(rng, tmp_path):
    m, w = _external_model(rng, tmp_path)
    x = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    m_inline = model([helper.make_node("Conv", ["x", "w"], ["y"])], [("x", [1, 3, 5, 5])], [("y", None)], {"w": w})
    got = InferenceSession(tmp_path / "m.onnx").run(None, {"x": x})[0]
    assert rel_l2(got, ort_run(m_inline, {"x": x})[0]) < RTOL


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/passwd", "sub/../../x.bin"])
def test_external_data_escaping_the_folder_is_refused(rng, tmp_path, location):
    _external_model(rng, tmp_path)
    m = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
    for e in m.graph.initializer[0].external_data:
        if e.key == "location":
            e.value = location
    (tmp_path / "evil.onnx").write_bytes(m.SerializeToString())
    with pytest.raises(OnnxLoadError, match="only relative paths inside"):
        InferenceSession(tmp_path / "evil.onnx")


def test_external_data_needs_a_path(rng, tmp_path):
    _external_model(rng, tmp_path)
    data = (tmp_path / "m.onnx").read_bytes()
    with pytest.raises(OnnxLoadError, match="load the model from its path"):
        InferenceSession(data)


def test_import_fastconv_without_onnx():
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import fastconv, fastconv.onnx\n"
            "try:\n    fastconv.InferenceSession(b'')\nexcept ImportError as e:\n    print('ImportError', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ImportError" in out.stdout and "pip install" in out.stdout


@pytest.mark.parametrize("algo", ["im2col", "auto"])
def test_per_session_algorithm_preference(rng, algo):
    m = conv_block(rng, bn=False)
    sess = InferenceSession(m, algo=algo)
    x = rng.standard_normal((1, 3, 6, 6)).astype(np.float32)
    assert rel_l2(sess.run(None, {"x": x})[0], ort_run(m, {"x": x})[0]) < RTOL
    (kernel,) = [k for k, n in zip(sess._kernels, sess.graph.nodes) if n.op == "Conv"]
    (plan,) = kernel.plans.values()
    assert plan.algo_preference == algo and (algo == "auto" or plan.algo == algo)


def test_plan_cache_is_bounded(rng, monkeypatch):
    from fastconv.onnx import session as session_module

    monkeypatch.setattr(session_module, "MAX_CACHED_SHAPES", 2)
    sess = InferenceSession(model([helper.make_node("Relu", ["x"], ["y"])], [("x", ["N"])], [("y", None)]))
    for n in range(1, 6):
        x = rng.standard_normal(n).astype(np.float32)
        np.testing.assert_array_equal(sess.run(None, {"x": x})[0], np.maximum(x, 0))
    assert len(sess._plans) == 2


def test_custom_domain_ops_are_unsupported():
    m = model([helper.make_node("FusedConv", ["x"], ["y"], domain="com.microsoft", name="msft")],
              [("x", [2])], [("y", None)])
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    with pytest.raises(NotImplementedError, match=r"com\.microsoft::FusedConv \(first used by node 'msft'"):
        InferenceSession(m)


def test_layer_outputs_are_planned_too(rng):
    # Conv, BatchNorm, Relu, MaxPool and Add all write into planned buffers when run node by node
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
             helper.make_node("Relu", ["n"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("MaxPool", ["x"], ["q"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Add", ["p", "q"], ["a"]),
             helper.make_node("Sigmoid", ["a"], ["y"])]
    inits = {"w": (rng.standard_normal((4, 4, 3, 3)) * 0.3).astype(np.float32),
             "s": rng.uniform(0.5, 1.5, 4).astype(np.float32), "b": rng.standard_normal(4).astype(np.float32),
             "m": rng.standard_normal(4).astype(np.float32), "v": rng.uniform(0.5, 1.5, 4).astype(np.float32)}
    m = model(nodes, [("x", ["N", 4, 8, 8])], [("y", None)], inits)
    sess = InferenceSession(m, optimize=False)
    results = []
    for _ in range(3):
        x = rng.standard_normal((2, 4, 8, 8)).astype(np.float32)
        y = sess.run(None, {"x": x})[0]
        results.append((y, y.copy()))
        assert rel_l2(y, ort_run(m, {"x": x})[0]) < RTOL
    (plan,) = sess._plans.values()
    planned = [n.op for n, s in zip(sess.graph.nodes, plan.slots) if s is not None]
    # the (small) graph output too, in a slot of its own that run() copies out
    assert planned == ["Conv", "BatchNormalization", "Relu", "MaxPool", "MaxPool", "Add", "Sigmoid"]
    assert len(plan.slot_sizes) < len(planned)
    for y, kept in results:  # later runs did not write into what earlier runs returned
        assert y.flags.owndata and np.array_equal(y, kept)


def test_concat_branches_write_in_place(rng):
    """The branches of an inception-style Concat write straight into their channel slice of its
    buffer (with several images, a slice whose images lie apart) and the Concat copies nothing; a
    branch that is also read elsewhere shares the buffer at batch 1 (its slice is contiguous, and
    the Concat's output outlives that read) and keeps its own at batch 2 (that Concat copies).
    Results equal onnxruntime's on every run, at batch 1 and 2."""
    w = {f"w{i}": (rng.standard_normal((3, 4, 1 + 2 * (i % 2), 1 + 2 * (i % 2))) * 0.3).astype(np.float32)
         for i in range(4)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["a"]),
             helper.make_node("Conv", ["x", "w1"], ["b"], pads=[1, 1, 1, 1]),
             helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["a", "b", "p"], ["cat"], axis=1),          # in place
             helper.make_node("Relu", ["cat"], ["r"]),
             helper.make_node("Conv", ["x", "w2"], ["e"]),
             helper.make_node("Conv", ["x", "w3"], ["f"], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["e", "f"], ["cat2"], axis=1),              # e is read twice
             helper.make_node("Sigmoid", ["e"], ["s"]),
             helper.make_node("Mul", ["cat2", "cat2"], ["m"]),
             helper.make_node("Concat", ["r", "m", "s"], ["y"], axis=1)]
    m = model(nodes, [("x", ["N", 4, 7, 7])], [("y", None)], w)
    sess = InferenceSession(m, optimize=False)
    for n in (1, 2):
        for _ in range(3):
            x = rng.standard_normal((n, 4, 7, 7)).astype(np.float32)
            assert rel_l2(sess.run(None, {"x": x})[0], ort_run(m, {"x": x})[0]) < RTOL
    plans = {key[0][1][0]: plan for key, plan in sess._plans.items()}
    concat_at = [i for i, node in enumerate(sess.graph.nodes) if node.op == "Concat"]
    # the last Concat is the (small) graph output, planned in a slot of its own: at batch 1 its parts
    # (element-wise nodes, which write whole arrays only) write into it too
    assert list(plans[1].in_place) == [concat_at[0], concat_at[1], concat_at[2]]
    assert list(plans[2].in_place) == [concat_at[0]]


def _dense_chain(rng, late_read):
    """DenseNet's concat chain, Concat(Concat(Concat(p, t1), t2), t3), each Concat also read by a
    Conv; late_read: the pool output p is also read after the chain's last Concat has died, by a
    Conv that runs after a same-sized buffer was reused (so p in that buffer would be overwritten)."""
    w = lambda *s: (rng.standard_normal(s) * 0.3).astype(np.float32)  # noqa: E731
    inits = {"w0": w(16, 16, 1, 1), "t1": w(16, 16, 3, 3), "t2": w(16, 32, 3, 3), "t3": w(16, 48, 3, 3),
             "wz": w(64, 64, 1, 1), "wu": w(64, 64, 1, 1), "wl": w(64, 16, 1, 1)}
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[1, 1]),
             helper.make_node("Conv", ["p", "t1"], ["a1"], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["p", "a1"], ["c1"], axis=1),
             helper.make_node("Conv", ["c1", "t2"], ["a2"], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["c1", "a2"], ["c2"], axis=1),
             helper.make_node("Conv", ["c2", "t3"], ["a3"], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["c2", "a3"], ["c3"], axis=1),
             helper.make_node("Conv", ["c3", "wz"], ["z"]),                 # c3 dies here
             helper.make_node("Conv", ["z", "wu"], ["u"])]                  # may take c3's buffer
    if late_read:
        nodes += [helper.make_node("Conv", ["p", "wl"], ["l"]), helper.make_node("Add", ["u", "l"], ["y"])]
    else:
        nodes += [helper.make_node("Relu", ["u"], ["y"])]
    return model(nodes, [("x", ["N", 16, 9, 9])], [("y", None)], inits)


@pytest.mark.parametrize("late_read", [False, True])
def test_concat_chain_shares_one_buffer(rng, late_read):
    """At batch 1 every part of the chain, the inner Concats included, is written into the last
    Concat's buffer, and no Concat copies; a part read after that buffer dies keeps its own (the
    others still share). Equal to onnxruntime on planned and replayed runs, at batch 1 and 2."""
    m = _dense_chain(rng, late_read)
    sess = InferenceSession(m, optimize=False)
    for n in (1, 2):
        x = rng.standard_normal((n, 16, 9, 9)).astype(np.float32)
        ref = ort_run(m, {"x": x})[0]
        for _ in range(4):
            assert rel_l2(sess.run(None, {"x": x})[0], ref) < RTOL
    plans = {key[0][1][0]: plan for key, plan in sess._plans.items()}
    concats = [i for i, node in enumerate(sess.graph.nodes) if node.op == "Concat"]
    pool = next(i for i, node in enumerate(sess.graph.nodes) if node.op == "MaxPool")
    parts = {c: [k for k, _ in plans[1].in_place.get(c, [])] for c in concats}
    assert parts == {concats[0]: [1] if late_read else [0, 1], concats[1]: [0, 1], concats[2]: [0, 1]}
    slot_of = lambda i: plans[1].slots[i][0]  # noqa: E731
    assert len({slot_of(i) for i in concats}) == 1   # the chain in one buffer
    assert (slot_of(pool) == slot_of(concats[2])) != late_read


def _replay_graph(rng):
    """Conv reading the feed, a fused residual that is the feed, an in-place Concat of conv and pool
    branches and a copying one, LRN, global pooling, Flatten (a view) and a dense Gemm, and
    a Python-only node (Sigmoid) between them, and small graph outputs (Softmax, GlobalMaxPool) after."""
    w = {f"w{i}": (rng.standard_normal((4, 4, 3, 3)) * 0.3).astype(np.float32) for i in range(4)}
    w["b0"] = rng.standard_normal(4).astype(np.float32)
    w["fc"] = rng.standard_normal((5, 8)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["ar"]),
             helper.make_node("Conv", ["ar", "w1"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "x"], ["res"]),                      # fused: residual is the feed
             helper.make_node("Conv", ["res", "w2"], ["d"], pads=[1, 1, 1, 1]),
             helper.make_node("MaxPool", ["res"], ["p"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["d", "p"], ["cat"], axis=1),          # in place
             helper.make_node("Concat", ["res", "ar"], ["cat2"], axis=1),      # parts read elsewhere: copied at N > 1
             helper.make_node("Sigmoid", ["cat"], ["sg"]),                     # Python between segments
             helper.make_node("AveragePool", ["sg"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("LRN", ["ap"], ["l"], size=3),
             helper.make_node("GlobalAveragePool", ["l"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),                        # a view: joins the segment
             helper.make_node("Gemm", ["f", "fc"], ["fy"], transB=1),          # dense
             helper.make_node("Softmax", ["fy"], ["y"]),
             helper.make_node("GlobalMaxPool", ["cat2"], ["z"])]
    return model(nodes, [("x", ["N", 4, 9, 9])], [("y", None), ("z", None)], w)


@pytest.mark.parametrize("n", [1, 3])
def test_recorded_runs_replay_identically(rng, n, monkeypatch):
    """From the third run of a shape, runs of engine calls replay as one C++ program: results are
    bit-identical to running every node from Python, with fresh feeds each run (a strided one too)."""
    from fastconv.onnx import session as S
    m = _replay_graph(rng)
    sess = InferenceSession(m)
    xs = [rng.standard_normal((n, 4, 9, 9)).astype(np.float32) for _ in range(4)]
    xs.append(rng.standard_normal((n, 4, 9, 18)).astype(np.float32)[..., ::2])  # not C-contiguous
    monkeypatch.setattr(S, "REPLAY", False)
    want = [sess.run(None, {"x": x}) for x in xs]
    monkeypatch.setattr(S, "REPLAY", True)
    for _ in range(2):
        for x, ys in zip(xs, want):
            for got, y in zip(sess.run(None, {"x": x}), ys):
                np.testing.assert_array_equal(got, y)
    for got, y in zip(want[0], ort_run(m, {"x": xs[0]})):
        assert rel_l2(got, y) < RTOL
    (plan,) = sess._plans.values()
    (arena, segments), = plan._programs.values()
    recorded = sorted(sess.graph.nodes[i].op for seg in segments.values() for i in range(seg.end - len(seg.produced), seg.end))
    # no step for the in-place Concat and the Flatten; the small graph outputs (Softmax, GlobalMaxPool)
    # are written into planned slots and join the second segment; at batch 1 the other Concat's parts,
    # read elsewhere before it, are written in place too (one image: contiguous slices), so no step
    assert len(segments) == 2 and sum(len(s.program) for s in segments.values()) == (10 if n == 1 else 11)
    assert recorded == ["AveragePool", "Concat", "Concat", "Conv", "Conv", "Conv", "Flatten", "Gemm",
                        "GlobalAveragePool", "GlobalMaxPool", "LRN", "MaxPool", "Softmax"]


def test_replay_from_threads(rng):
    """Concurrent runs take different arenas, each with its own recorded program."""
    m = _replay_graph(rng)
    sess = InferenceSession(m)
    xs = [rng.standard_normal((2, 4, 9, 9)).astype(np.float32) for _ in range(6)]
    want = [sess.run(None, {"x": x})[0].copy() for x in xs]  # y (z is a fresh array each run)

    def work(i):
        for _ in range(6):
            np.testing.assert_array_equal(sess.run(None, {"x": xs[i]})[0], want[i])

    _in_threads(work, len(xs))


def test_program_checks_its_arrays(rng):
    """_C.Program (the replay) checks what it is given as the per-op bindings do."""
    from fastconv import _C
    plan = fastconv.ConvPlan(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), padding=1)
    x = np.zeros((1, 3, 5, 5), np.float32)
    prog = _C.Program()
    with pytest.raises(ValueError, match="x has shape"):
        prog.add_conv(plan._plan, np.zeros((1, 2, 5, 5), np.float32), -1, np.zeros((1, 4, 5, 5), np.float32))
    with pytest.raises(ValueError, match="out has shape"):
        prog.add_conv(plan._plan, x, 0, np.zeros((1, 4, 5, 4), np.float32))
    with pytest.raises(ValueError, match="float32"):
        prog.add_pool(x.astype(np.float64), -1, np.zeros((1, 3, 2, 2), np.float32), "max", (2, 2), (2, 2), (1, 1),
                      (0, 0, 0, 0), False, False)
    with pytest.raises(ValueError, match="the parts have 5 channels, out has 6"):
        prog.add_concat([x, x[:, :2].copy()], [-1, -1], np.zeros((1, 6, 5, 5), np.float32))
    with pytest.raises(ValueError, match="lrn cannot run in place"):
        prog.add_lrn(x, -1, x, 3, 1e-4, 0.75, 1.0)
    dense = _C.DensePlan(np.ones((2, 3), np.float32), None)
    with pytest.raises(ValueError, match="x has shape"):
        prog.add_dense(dense, np.zeros((4, 5), np.float32), -1, np.zeros((4, 2), np.float32))
    y = np.zeros((1, 4, 5, 5), np.float32)
    prog.add_conv(plan._plan, x, 0, y)
    with pytest.raises(ValueError, match="takes 1 dynamic inputs, got 0"):
        prog.run([])
    with pytest.raises(ValueError, match="recorded with"):
        prog.run([np.zeros((2, 3, 5, 5), np.float32)])
    x1 = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    prog.run([x1])
    np.testing.assert_array_equal(y, plan(x1))


def test_device_argument(rng):
    m = model([helper.make_node("Relu", ["x"], ["y"])], [("x", [1, 2])], [("y", None)])
    with pytest.raises(ValueError, match=r"device must be one of \('cpu', 'cuda'\), got 'gpu'"):
        InferenceSession(m, device="gpu")
    with pytest.raises(ValueError, match="allow_tf32 applies to device='cuda'"):
        InferenceSession(m, allow_tf32=True)
    import fastconv.gpu
    if not fastconv.gpu.is_available():  # with a GPU, tests/gpu/test_gpu_session.py runs the session there
        with pytest.raises(ImportError, match=r"pip install fastconv\[gpu\]"):
            InferenceSession(m, device="cuda")


@pytest.mark.parametrize("op,opset,axis,recorded", [
    ("Softmax", 13, 1, True), ("LogSoftmax", 13, -1, True),
    ("Softmax", 11, 1, False),   # legacy: over C*H*W flattened, not along C alone: not recorded
    ("LogSoftmax", 11, 3, True)])
def test_softmax_outputs_replay(rng, op, opset, axis, recorded, monkeypatch):
    """A (log-)softmax graph output joins the recorded program when the program can express it
    (ONNX >= 13: along one axis; legacy opsets: only when the dimensions after the axis are 1, here the
    last axis), with results bit-identical to the node-by-node run and onnxruntime's, and fresh arrays."""
    from fastconv.onnx import session as S
    w = (rng.standard_normal((5, 3, 3, 3)) * 0.3).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node(op, ["c"], ["y"], axis=axis)]
    m = model(nodes, [("x", ["N", 3, 6, 7])], [("y", None)], {"w": w}, opset=opset)
    sess = InferenceSession(m)
    xs = [rng.standard_normal((2, 3, 6, 7)).astype(np.float32) for _ in range(4)]
    monkeypatch.setattr(S, "REPLAY", False)
    want = [sess.run(None, {"x": x})[0] for x in xs]
    monkeypatch.setattr(S, "REPLAY", True)
    got = [sess.run(None, {"x": x})[0] for x in xs for _ in range(2)][1::2]
    for g, w_, x in zip(got, want, xs):
        np.testing.assert_array_equal(g, w_)
        assert rel_l2(g, ort_run(m, {"x": x})[0]) < RTOL
    assert got[0] is not got[1] and got[0].flags.owndata
    (plan,) = sess._plans.values()
    (_, segments), = plan._programs.values()
    ops = sorted(sess.graph.nodes[i].op for seg in segments.values()
                 for i in range(seg.end - len(seg.produced), seg.end))
    assert ops == (["Conv", op] if recorded else ["Conv"])


def test_residual_conv_writes_over_a_residual_that_dies_there(rng):
    """A blocked Conv with a fused residual Add takes the residual's buffer for its output where no
    later node reads the residual (session.py, residual_slot), and a buffer of its own where one
    does; results equal onnxruntime's on every run (planned and replayed), at batch 1 and 2."""
    def w(k, c, s):
        return (rng.standard_normal((k, c, s, s)) * np.sqrt(2 / (c * s * s))).astype(np.float32)

    inits = {"w1": w(16, 16, 3), "w2": w(16, 16, 1), "w3": w(16, 16, 3), "w4": w(16, 16, 1)}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"]),
             helper.make_node("Add", ["c2", "r1"], ["s2"]),                     # r1 dies here: in place
             helper.make_node("Relu", ["s2"], ["y2"]),
             helper.make_node("Conv", ["y2", "w3"], ["c3"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c3", "y2"], ["s3"]),                     # y2 read again below
             helper.make_node("Relu", ["s3"], ["y3"]),
             helper.make_node("Conv", ["y3", "w4"], ["c4"]),
             helper.make_node("Add", ["c4", "y2"], ["y4"]),                     # y2 dies here: in place
             helper.make_node("GlobalAveragePool", ["y4"], ["y"])]
    m = model(nodes, [("x", ["N", 16, 9, 8])], [("y", None)], inits)
    sess = InferenceSession(m)
    for n in (1, 2):
        for _ in range(4):
            x = rng.standard_normal((n, 16, 9, 8)).astype(np.float32)
            assert rel_l2(sess.run(None, {"x": x})[0], ort_run(m, {"x": x})[0]) < RTOL
    g = sess.graph
    convs = [i for i, node in enumerate(g.nodes) if node.op == "Conv"]
    assert len(convs) == 4 and all(g.nodes[i].attrs.get("_blocked") for i in convs)
    producer = {o: i for i, node in enumerate(g.nodes) for o in node.outputs}
    for plan in sess._plans.values():
        def slot_of_residual(i):
            return plan.slots[producer[g.nodes[i].inputs[3]]][0]
        assert [plan.slots[i][0] == slot_of_residual(i) for i in convs[1:]] == [True, False, True]

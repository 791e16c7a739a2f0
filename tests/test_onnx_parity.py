"""Parity with onnxruntime on random-weight versions of the nine ONNX model-zoo CNNs (the light models
in the onnx wheel with seeded random weights): relative L2 error <= 1e-4 on every output and the same
top-5 classes, at batch 1 and 4; later runs (recorded, replayed) give the same bits as the first.

The bound: fp32 accumulation over up to ~4.6k products per output (VGG's 3x3x512 convs), 50-120 layers
deep, in an order that differs from onnxruntime's; measured errors are 3e-7..4e-6, and 1e-4 is the
issue's bound, which leaves room for other kernels (Winograd) without hiding a wrong layer (~1e-1)."""
import functools

import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX import needs the optional onnx package")
ort = pytest.importorskip("onnxruntime", reason="parity needs onnxruntime (test extra)")

import fastconv  # noqa: E402
from fastconv.onnx import zoo  # noqa: E402
from onnx_graphs import rel_l2  # noqa: E402


@functools.lru_cache(maxsize=1)  # one model in memory at a time: VGG-19's weights are 550 MB
def _sessions(name):
    m = zoo.random_weight_model(name, seed=0)
    data = m.SerializeToString()
    so = ort.SessionOptions()
    so.log_severity_level = 3
    return m, fastconv.InferenceSession(data), ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name,batch", [(n, b) for n in zoo.NINE for b in (1, 4)])  # model-major: one load each
def test_zoo_model_matches_onnxruntime(name, batch):
    m, ours, theirs = _sessions(name)
    feeds = zoo.random_input(m, batch, seed=batch)
    got, want = ours.run(None, feeds), theirs.run(None, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert rel_l2(g, w) <= 1e-4
        # the scores are not saturated, so the top-5 comparison means something
        scores = w.reshape(batch, -1)
        assert np.all(np.sort(scores, axis=1)[:, -5:].std(axis=1) > 1e-4)
        top_g = np.argsort(-g.reshape(batch, -1), axis=1, kind="stable")[:, :5]
        top_w = np.argsort(-scores, axis=1, kind="stable")[:, :5]
        np.testing.assert_array_equal(top_g, top_w)
    # the second run of a shape records the session's C++ programs and the third replays them
    # (session.py, _Recorder): both bit-identical to the first, which ran every node from Python
    for _ in range(2):
        again = ours.run(None, feeds)
        for g, a in zip(got, again):
            np.testing.assert_array_equal(a, g)


def test_unoptimized_graph_matches_too():
    m, _, theirs = _sessions("resnet50")
    feeds = zoo.random_input(m, 2, seed=7)
    plain = fastconv.InferenceSession(m, optimize=False)
    assert rel_l2(plain.run(None, feeds)[0], theirs.run(None, feeds)[0]) <= 1e-4


def test_random_weights_are_seeded():
    a = zoo.random_weight_model("squeezenet", seed=3)
    b = zoo.random_weight_model("squeezenet", seed=3)
    c = zoo.random_weight_model("squeezenet", seed=4)
    assert a.SerializeToString() == b.SerializeToString() != c.SerializeToString()


def test_unknown_zoo_model():
    with pytest.raises(ValueError, match="unknown model 'lenet'"):
        zoo.random_weight_model("lenet")

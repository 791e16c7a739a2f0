"""Fuzzing the loader with mutated model bytes (bounded: a fixed number of hypothesis examples).

Whatever the bytes, loading (and running, when it loads) ends normally or raises one of the documented
exceptions; never a crash, a hang or another exception type. Inputs that once failed stay below as
explicit examples (regression tests)."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX import needs the optional onnx package")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import helper  # noqa: E402

from fastconv.onnx import InferenceSession  # noqa: E402
from onnx_graphs import model  # noqa: E402

ALLOWED = (ValueError, TypeError, NotImplementedError, RuntimeError)


def _seed_model() -> bytes:
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Shape", ["p"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["nu"]),
             helper.make_node("Concat", ["nu", "minus1"], ["target"], axis=0),
             helper.make_node("Reshape", ["p", "target"], ["f"]),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)]
    inits = {"w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "b": np.zeros(4, np.float32),
             "zero": np.array(0, np.int64), "axes": np.array([0], np.int64), "minus1": np.array([-1], np.int64),
             "fw": rng.standard_normal((5, 16)).astype(np.float32), "fb": np.zeros(5, np.float32)}
    return model(nodes, [("x", ["N", 3, 4, 4])], [("y", None)], inits).SerializeToString()


SEED = _seed_model()


def _load_and_run(data: bytes):
    try:
        sess = InferenceSession(data)
    except ALLOWED:
        return
    for inp in sess.get_inputs():
        if inp.shape is None or len(inp.shape) > 6:
            return
    dims = {i.name: [d if isinstance(d, int) and 0 < d <= 64 else 2 for d in i.shape] for i in sess.get_inputs()}
    if any(np.prod(d) > 1 << 16 for d in dims.values()):
        return
    feeds = {}
    for i in sess.get_inputs():
        if i.type != "tensor(float)":
            return
        feeds[i.name] = np.ones(dims[i.name], np.float32)
    try:
        sess.run(None, feeds)
    except ALLOWED:
        pass


@st.composite
def mutated(draw):
    data = bytearray(SEED)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 8))]
    return bytes(data)


def test_seed_model_runs():
    sess = InferenceSession(SEED)
    assert sess.run(None, {"x": np.ones((2, 3, 4, 4), np.float32)})[0].shape == (2, 5)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(mutated())
@example(b"")
@example(SEED[:10])
def test_mutated_model_bytes_fail_cleanly(data):
    _load_and_run(data)


@st.composite
def structurally_mutated(draw):
    """Well-formed protobuf with wrong content: attribute values, tensor dims, node wiring."""
    m = onnx.ModelProto()
    m.ParseFromString(SEED)
    g = m.graph
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["attr", "dims", "rewire", "drop_node", "drop_init", "op_type", "shape"]))
        if kind == "attr":
            n = g.node[draw(st.integers(0, len(g.node) - 1))]
            if n.attribute:
                a = n.attribute[draw(st.integers(0, len(n.attribute) - 1))]
                if a.ints:
                    a.ints[draw(st.integers(0, len(a.ints) - 1))] = draw(st.integers(-3, 9))
                elif a.type == onnx.AttributeProto.INT:
                    a.i = draw(st.integers(-3, 9))
        elif kind == "dims" and g.initializer:
            t = g.initializer[draw(st.integers(0, len(g.initializer) - 1))]
            if t.dims:
                t.dims[draw(st.integers(0, len(t.dims) - 1))] = draw(st.integers(0, 9))
        elif kind == "rewire":
            n = g.node[draw(st.integers(0, len(g.node) - 1))]
            names = ["x", "w", "b", "c", "r", "p", "s", "n", "target", "f", "y", "", "nope"]
            if n.input:
                n.input[draw(st.integers(0, len(n.input) - 1))] = draw(st.sampled_from(names))
        elif kind == "drop_node" and len(g.node) > 1:
            del g.node[draw(st.integers(0, len(g.node) - 1))]
        elif kind == "drop_init" and g.initializer:
            del g.initializer[draw(st.integers(0, len(g.initializer) - 1))]
        elif kind == "op_type":
            g.node[draw(st.integers(0, len(g.node) - 1))].op_type = draw(
                st.sampled_from(["Relu", "Conv", "Gemm", "Reshape", "Concat", "MaxPool", "Split", "Slice", "Bogus"]))
        elif kind == "shape":
            d = g.input[0].type.tensor_type.shape.dim[draw(st.integers(0, 3))]
            d.dim_value = draw(st.integers(0, 7))
    return m.SerializeToString()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(structurally_mutated())
def test_structurally_mutated_models_fail_cleanly(data):
    _load_and_run(data)

"""InferenceSession(device="cuda"): the ONNX graph on fastconv.gpu's kernels, compared with the CPU
session on the same model and input (relative L2 error <= 1e-5 in FP32); CuPy arrays out."""
import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX import needs the optional onnx package")
from onnx import helper  # noqa: E402

import fastconv  # noqa: E402
from fastconv.onnx import OnnxLoadError  # noqa: E402
from onnx_graphs import model  # noqa: E402
from reference import rel_err  # noqa: E402

RTOL = 1e-5


def small_cnn(rng):
    """Conv + BN + Relu, a residual Add, max pool, an inception-style Concat, LRN, global pool,
    Flatten, Gemm, Softmax: what the optimizer fuses and what it leaves as separate nodes."""
    w = lambda *s: (rng.standard_normal(s) * 0.3).astype(np.float32)  # noqa: E731
    inits = {"w1": w(8, 3, 3, 3), "b1": w(8), "s": rng.uniform(0.5, 1.5, 8).astype(np.float32), "bb": w(8),
             "m": w(8), "v": rng.uniform(0.5, 1.5, 8).astype(np.float32), "w2": w(8, 8, 3, 3), "w3": w(4, 8, 1, 1),
             "w4": w(4, 8, 3, 3), "fc": w(5, 8), "fcb": w(5), "scale": w(1, 8, 1, 1)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "s", "bb", "m", "v"], ["n1"]),
             helper.make_node("Relu", ["n1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c2", "r1"], ["a"]),
             helper.make_node("LeakyRelu", ["a"], ["r2"], alpha=0.1),
             helper.make_node("MaxPool", ["r2"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["p", "w3"], ["b1o"]),
             helper.make_node("Conv", ["p", "w4"], ["b2o"], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["b1o", "b2o"], ["cat"], axis=1),
             helper.make_node("Mul", ["cat", "scale"], ["sc"]),
             helper.make_node("LRN", ["sc"], ["l"], size=3),
             helper.make_node("GlobalAveragePool", ["l"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fc", "fcb"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["y"], axis=1)]
    return model(nodes, [("x", ["N", 3, 12, 12])], [("y", None)], inits)


@pytest.mark.parametrize("optimize", [True, False])
def test_session_on_gpu_matches_cpu(cp, rng, optimize):
    m = small_cnn(rng)
    cpu = fastconv.InferenceSession(m, optimize=optimize)
    gpu = fastconv.InferenceSession(m, optimize=optimize, device="cuda")
    for n in (1, 3):
        x = rng.standard_normal((n, 3, 12, 12)).astype(np.float32)
        (ref,) = cpu.run(None, {"x": x})
        (y,) = gpu.run(None, {"x": cp.asarray(x)})
        assert isinstance(y, cp.ndarray) and y.shape == ref.shape
        assert rel_err(y.get(), ref) <= RTOL
        assert rel_err(gpu.run(["y"], {"x": x})[0].get(), ref) <= RTOL  # numpy in: uploaded


def test_zoo_model_on_gpu(cp, rng):
    from fastconv.onnx.zoo import random_weight_model
    m = random_weight_model("squeezenet", batch=1)
    x = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    name = fastconv.InferenceSession(m).get_inputs()[0].name
    (ref,) = fastconv.InferenceSession(m).run(None, {name: x})
    (y,) = fastconv.InferenceSession(m, device="cuda").run(None, {name: x})
    assert rel_err(y.get(), ref) <= 1e-4  # 1000-way softmax of a deep net: a few float32 roundings apart


def test_gpu_session_refuses_what_it_cannot_run(cp, rng):
    m = model([helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="nearest")], [("x", [1, 3, 4, 4])],
              [("y", None)], {"sc": np.array([1, 1, 2, 2], np.float32)})
    with pytest.raises(OnnxLoadError, match=r"Resize \(first: Resize node"):
        fastconv.InferenceSession(m, device="cuda")
    sess = fastconv.InferenceSession(small_cnn(rng), device="cuda")
    with pytest.raises(ValueError, match=r"input 'x' has shape \(1, 3, 5, 5\), expected \('N', 3, 12, 12\)"):
        sess.run(None, {"x": np.zeros((1, 3, 5, 5), np.float32)})


def test_shape_ops_on_gpu(cp, rng):
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1, 3]),
             helper.make_node("Reshape", ["t", "shape"], ["r"]),
             helper.make_node("Unsqueeze", ["r", "axes"], ["u"]),
             helper.make_node("Squeeze", ["u", "axes"], ["s"]),
             helper.make_node("Sigmoid", ["s"], ["y"])]
    m = model(nodes, [("x", [2, 3, 4, 5])], [("y", None)],
              {"shape": np.array([2, 0, -1], np.int64), "axes": np.array([1], np.int64)})
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    (ref,) = fastconv.InferenceSession(m, optimize=False).run(None, {"x": x})
    (y,) = fastconv.InferenceSession(m, optimize=False, device="cuda").run(None, {"x": x})
    assert y.shape == ref.shape == (2, 4, 15)
    assert rel_err(y.get(), ref) <= RTOL


def test_tf32_only_when_asked(cp, rng):
    """allow_tf32=True reaches every Conv's GEMMs (error within the TF32 bound); the default stays fp32."""
    m = small_cnn(rng)
    x = rng.standard_normal((2, 3, 12, 12)).astype(np.float32)
    (ref,) = fastconv.InferenceSession(m).run(None, {"x": x})
    (fp32,) = fastconv.InferenceSession(m, device="cuda").run(None, {"x": x})
    (tf32,) = fastconv.InferenceSession(m, device="cuda", allow_tf32=True).run(None, {"x": x})
    assert rel_err(fp32.get(), ref) <= RTOL
    assert rel_err(tf32.get(), ref) <= 3e-3
    if cp.__version__ == "fake":   # the stand-in rounds GEMM inputs exactly as tensor cores read them
        assert rel_err(tf32.get(), ref) > 10 * rel_err(fp32.get(), ref)

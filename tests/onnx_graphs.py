"""Small ONNX graphs built with onnx.helper for the ONNX importer's tests."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def model(nodes, inputs, outputs, initializers=(), opset=OPSET):
    """inputs/outputs: [(name, shape)] float32 (shape entries may be names); initializers: {name: array}."""
    g = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in dict(initializers).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def conv_block(rng, c=3, k=8, act="Relu", bn=True, residual=False):
    """x -> Conv(3x3, pad 1) [-> BatchNormalization] [-> + x] [-> act] -> y, weights He-scaled."""
    k = c if residual else k
    w = (rng.standard_normal((k, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
    inits = {"w": w, "b": rng.standard_normal(k).astype(np.float32) * 0.1}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1])]
    last = "c"
    if bn:
        inits.update({"s": rng.uniform(0.5, 1.5, k).astype(np.float32), "bb": rng.standard_normal(k).astype(np.float32),
                      "m": rng.standard_normal(k).astype(np.float32) * 0.1,
                      "v": rng.uniform(0.5, 1.5, k).astype(np.float32)})
        nodes.append(helper.make_node("BatchNormalization", [last, "s", "bb", "m", "v"], ["n"], epsilon=1e-3))
        last = "n"
    if residual:
        nodes.append(helper.make_node("Add", [last, "x"], ["r"]))
        last = "r"
    if act:
        nodes.append(helper.make_node(act, [last], ["y"]))
    else:
        nodes.append(helper.make_node("Identity", [last], ["y"]))
    return model(nodes, [("x", ["N", c, "H", "W"])], [("y", None)], inits)


def ort_run(m, feeds):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def rel_l2(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))

"""Random-weight versions of the nine ONNX model-zoo CNNs that the onnx wheel ships as "light" models.

The light files keep each weight as a ConstantOfShape node (a constant fill). `random_weight_model`
replaces every one with seeded random values scaled so activations stay in range (He-scaled conv and
dense weights, BatchNorm scales and variances near 1), and makes the batch dimension symbolic, so the
same model runs at any batch size in fastconv and in onnxruntime alike.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MODELS = {"alexnet": "bvlc_alexnet", "vgg19": "vgg19", "resnet50": "resnet50", "googlenet": "inception_v1",
          "inception_v1": "inception_v1", "inception_v2": "inception_v2", "densenet121": "densenet121",
          "squeezenet": "squeezenet", "shufflenet": "shufflenet", "zfnet512": "zfnet512"}
NINE = ("alexnet", "vgg19", "resnet50", "googlenet", "inception_v2", "densenet121", "squeezenet", "shufflenet",
        "zfnet512")


def light_model_path(name: str) -> Path:
    """The onnx wheel's light model file for `name` (a key of MODELS)."""
    import onnx

    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(sorted(MODELS))}")
    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"light_{MODELS[name]}.onnx"


def _weight_value(rng, shape, uses, consumers):
    """Random values for one weight, chosen by how the graph uses it: uses = [(node, input index)]."""
    node, idx = uses[0]
    size = int(np.prod(shape)) if len(shape) else 1
    if node.op_type == "Unsqueeze":  # densenet / inception_v2 write BatchNorm as Unsqueeze -> Mul / Add
        nxt = consumers.get(node.output[0], [])
        node, idx = nxt[0] if nxt else (node, idx)
        if node.op_type == "Mul":
            return rng.uniform(0.8, 1.2, shape)
        return rng.normal(0.0, 0.1, shape)
    if node.op_type == "Conv" and idx == 1:
        return rng.normal(0.0, np.sqrt(2.0 / max(1, size // shape[0])), shape)
    if node.op_type == "Gemm" and idx == 1:
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        fan_in = shape[1] if trans_b else shape[0]
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if node.op_type == "BatchNormalization":
        if idx == 1 and any(c.op_type in ("Sum", "Add") for c, _ in consumers.get(node.output[0], [])):
            # the last BN of a residual branch scales it down (as zero-init-residual training does), so
            # activations do not double with every block and the logits stay in softmax's useful range
            return rng.uniform(0.2, 0.4, shape)
        return rng.uniform(0.8, 1.2, shape) if idx in (1, 4) else rng.normal(0.0, 0.1, shape)
    if node.op_type == "Mul":
        return rng.uniform(0.8, 1.2, shape)
    return rng.normal(0.0, 0.05, shape)  # biases


def random_weight_model(name: str, seed: int = 0, batch: int | str = "N"):
    """An onnx.ModelProto of zoo model `name` with seeded random weights and batch dimension `batch`
    (a name for a symbolic dimension, or an int)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(light_model_path(name)))
    g = model.graph
    rng = np.random.default_rng(seed)
    inits = {t.name: t for t in g.initializer}
    consumers: dict[str, list] = {}
    for n in g.node:
        for i, v in enumerate(n.input):
            consumers.setdefault(v, []).append((n, i))
    keep, new_inits, drop = [], [], set()
    for n in g.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in inits:
            shape = [int(s) for s in numpy_helper.to_array(inits[n.input[0]]).reshape(-1)]
            value = _weight_value(rng, shape, consumers.get(n.output[0], [(n, 0)]), consumers)
            new_inits.append(numpy_helper.from_array(np.asarray(value, np.float32), n.output[0]))
            drop.add(n.input[0])
            continue
        keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    # Reshape targets that hard-code batch 1 copy the batch dimension instead (0 = "as the input").
    reshape_shapes = {n.input[1] for n in keep if n.op_type == "Reshape" and len(n.input) > 1}
    others = [t for t in g.initializer if t.name not in drop]
    for i, t in enumerate(others):
        if t.name in reshape_shapes:
            arr = numpy_helper.to_array(t).copy()
            if arr.size and arr.reshape(-1)[0] == 1:
                arr.reshape(-1)[0] = 0
                others[i] = numpy_helper.from_array(arr, t.name)
    del g.initializer[:]
    g.initializer.extend(others + new_inits)
    init_names = {t.name for t in g.initializer}
    real_inputs = [v for v in g.input if v.name not in drop and v.name not in init_names]
    del g.input[:]
    g.input.extend(real_inputs)
    for v in list(g.input) + list(g.output):
        dims = v.type.tensor_type.shape.dim
        if len(dims):
            dims[0].Clear()
            if isinstance(batch, str):
                dims[0].dim_param = batch
            else:
                dims[0].dim_value = int(batch)
    del g.value_info[:]
    if model.ir_version < 4:
        model.ir_version = 4  # initializers need not be listed as inputs from IR 4 on
    _calibrate_classifier(model, seed)
    return model


def _calibrate_classifier(model, seed, target_std=3.0):
    """Scales the last Gemm/Conv before the final Softmax so the logits have standard deviation ~3 on
    random input: random BatchNorm statistics do not normalize, and without this some models (ShuffleNet)
    reach logits in the hundreds, where softmax is one-hot and a top-5 comparison means nothing.
    The layer's weight and bias scale together, which scales its output (and, through ReLU/pooling, the
    logits) exactly."""
    import onnx
    from onnx import numpy_helper

    from .session import InferenceSession

    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    softmax = next((n for n in g.node if n.op_type == "Softmax" and n.output[0] == g.output[0].name), None)
    if softmax is None:
        return
    node = producer.get(softmax.input[0])
    while node is not None and node.op_type not in ("Gemm", "Conv"):
        node = producer.get(node.input[0])
    if node is None:
        return
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(onnx.helper.make_tensor_value_info(softmax.input[0], onnx.TensorProto.FLOAT, None))
    sess = InferenceSession(probe)
    logits = sess.run([softmax.input[0]], random_input(probe, 1, seed + 1000))[0]
    std = float(np.std(logits))
    if not np.isfinite(std) or std == 0.0:
        return
    factor = np.float32(target_std / std)
    for t in g.initializer:
        if t.name in node.input[1:3]:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) * factor, t.name))


def random_input(model, batch: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Random float32 feeds for `model` (ModelProto) at this batch size, standard-normal values."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for v in model.graph.input:
        dims = [d.dim_value if d.HasField("dim_value") else batch for d in v.type.tensor_type.shape.dim]
        feeds[v.name] = rng.standard_normal(dims).astype(np.float32)
    return feeds

"""Model / Sequential with device="cuda": the same graphs and fusions as on the CPU, run by
fastconv.gpu's kernels, compared with the CPU model on the same weights and inputs (relative L2
error <= 1e-5 in FP32). Outputs stay on the GPU."""
import numpy as np
import pytest

import fastconv
from fastconv import layers as L
from reference import rel_err

RTOL = 1e-5


def small_inception_resnet():
    """Every layer kind a model can hold: conv + BN + relu (folded), a residual Add fused into a
    conv, grouped and strided convs, pools, LRN, PReLU, a concat of branches, dense + softmax."""
    x = inp = fastconv.Input((3, 12, 12))
    x = L.Conv2D(8, 3, padding=1, name="stem")(x)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.Activation("relu", name="stem_relu")(x)
    x = L.LRN(3, name="lrn")(x)
    y = L.Conv2D(8, 3, padding=1, groups=2, name="grouped")(x)
    y = L.BatchNormalization(name="grouped_bn")(y)
    x = L.Add(activation="relu", name="residual")([y, x])
    b1 = L.Conv2D(4, 1, activation="relu", name="b1")(x)
    b2 = L.MaxPooling2D(3, 1, 1, name="b2_pool")(x)
    b2 = L.Conv2D(4, 1, name="b2")(b2)
    b2 = L.PReLU(name="b2_prelu")(b2)
    x = L.Concatenate(name="concat")([b1, b2])
    x = L.AveragePooling2D(2, name="avg")(x)
    x = L.Conv2D(6, 3, strides=2, padding=1, activation=("leaky_relu", 0.1), name="strided")(x)
    x = L.BatchNormalization(name="free_bn")(L.Dropout(0.5, name="drop")(x))
    x = L.Flatten(name="flat")(x)
    x = L.Dense(10, activation="relu", name="fc1")(x)
    x = L.Dense(5, name="fc2")(x)
    x = L.Softmax(name="probs")(x)
    return inp, x


def test_model_on_gpu_matches_cpu(cp, rng):
    inp, out = small_inception_resnet()
    model = fastconv.Model(inp, out, seed=3)
    for layer in model.layers:  # BN statistics away from the identity, so the folds matter
        if isinstance(layer, L.BatchNormalization):
            c = layer.channels
            layer.set_weights({"gamma": rng.uniform(0.5, 1.5, c), "beta": rng.standard_normal(c),
                               "moving_mean": rng.standard_normal(c), "moving_var": rng.uniform(0.5, 2, c)})
    model.compile()
    x = rng.standard_normal((3, 3, 12, 12)).astype(np.float32)
    ref = model(x)
    gpu = fastconv.Model(inp, out, device="cuda")  # the same layers, hence the same weights
    y = gpu(cp.asarray(x))
    assert isinstance(y, cp.ndarray) and y.shape == ref.shape
    assert rel_err(y.get(), ref) <= RTOL
    assert rel_err(gpu(x).get(), ref) <= RTOL  # numpy input: uploaded once
    assert rel_err(gpu.predict(x, batch_size=2).get(), ref) <= RTOL
    assert rel_err(model.to("cuda")(cp.asarray(x)).get(), ref) <= RTOL
    assert rel_err(model.to("cpu")(x), ref) == 0


def test_sequential_and_zoo_model_on_gpu(cp, rng):
    seq = fastconv.Sequential([L.Conv2D(4, 3, padding=1, activation="relu"), L.MaxPooling2D(2),
                               L.GlobalAveragePooling2D(), L.Dense(3)], input_shape=(2, 8, 8), device="cuda")
    x = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    y = seq(x)
    assert isinstance(y, cp.ndarray)
    assert rel_err(y.get(), seq.to("cpu")(x)) <= RTOL
    net = fastconv.models.resnet18(num_classes=7).to("cuda")  # every conv of the zoo model gets a GPU plan
    with pytest.raises(ValueError, match=r"expects shape \(N, 3, 224, 224\)"):
        net(rng.standard_normal((1, 3, 32, 32)).astype(np.float32))


def test_bad_device_is_refused():
    with pytest.raises(ValueError, match=r"device must be one of \('cpu', 'cuda'\), got 'gpu'"):
        fastconv.Sequential([L.Flatten()], input_shape=(1, 2, 2), device="gpu")

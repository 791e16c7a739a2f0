"""fastconv.models: architectures against published parameter counts and multiply-adds, output
shapes, fused == unfused on a whole network, weights from .npz."""
import subprocess
import sys

import numpy as np
import pytest

import fastconv
from fastconv.layers import BatchNormalization, Conv2D, Dense

# Published figures: parameters as PyTorch counts them (BN statistics excluded) and multiply-adds
# of the convolutions and dense layers for one 224x224 (AlexNet: 227x227) image.
#   AlexNet (BVLC, grouped): 60,965,224 params, 724M MACs (Krizhevsky 2012 / Caffe model zoo)
#   VGG-16 / VGG-19: 138,357,544 / 143,667,240 params, 15.47G / 19.63G MACs (Simonyan & Zisserman 2014)
#   GoogLeNet: ~7.0M params (Szegedy 2014 table 1: 6.8M counted roughly), ~1.5G MACs
#   ResNet-18 / ResNet-50: 11,689,512 / 25,557,032 params, 1.82G / 4.09G MACs (torchvision)
PUBLISHED = {
    "alexnet": (60_965_224, 0.724e9, (1000,)),
    "vgg16": (138_357_544, 15.47e9, (1000,)),
    "vgg19": (143_667_240, 19.63e9, (1000,)),
    "googlenet": (7.0e6, 1.5e9, (1000,)),
    "resnet18": (11_689_512, 1.82e9, (1000,)),
    "resnet50": (25_557_032, 4.09e9, (1000,)),
}
PARAM_TOL = {"googlenet": 0.05}   # the paper gives a rounded total
MAC_TOL = {"googlenet": 0.08}     # "1.5 billion" is rounded; our count is exact for the table's layers


def macs(model):
    return sum(t.layer.flops(t.shape) for t in model._nodes if isinstance(t.layer, (Conv2D, Dense))) // 2


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_builder_params_macs_shape(name):
    params, mac, out_shape = PUBLISHED[name]
    model = getattr(fastconv.models, name)()
    assert model.output_shape == out_shape
    assert abs(model.count_params(trainable_only=True) - params) <= PARAM_TOL.get(name, 0) * params
    assert abs(macs(model) - mac) <= MAC_TOL.get(name, 0.01) * mac
    assert model.count_flops() >= 2 * macs(model)


@pytest.mark.parametrize("name", ["alexnet", "googlenet"])
def test_forward_is_a_distribution(name, rng):
    model = getattr(fastconv.models, name)()
    x = rng.standard_normal((1,) + model.input_shape).astype(np.float32)
    y = model(x)
    assert y.shape == (1, 1000) and np.all(np.isfinite(y)) and np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-5)


def test_resnet18_fused_equals_unfused_and_loads_weights(tmp_path, rng):
    model = fastconv.models.resnet18(classifier_activation=None, seed=7)
    for layer in model.layers:  # non-trivial BN so the folding matters
        if isinstance(layer, BatchNormalization):
            c = layer.channels
            layer.set_weights({"gamma": rng.uniform(0.5, 1.0, c), "beta": rng.standard_normal(c) * 0.1,
                               "moving_mean": rng.standard_normal(c) * 0.1, "moving_var": rng.uniform(0.5, 2, c)})
    model.compile()
    unfused = fastconv.Model(model.inputs, model.outputs, fuse=False)
    assert len(model._steps) < len(unfused._steps) // 2
    x = rng.standard_normal((2, 3, 224, 224)).astype(np.float32)
    y = model(x)
    yu = unfused(x)
    # 18 layers of fp32 convs (depth up to 4608) in two different roundings: relative ~1e-5.
    assert np.linalg.norm(y - yu) / np.linalg.norm(yu) < 1e-4
    np.savez(tmp_path / "r18.npz", **model.get_weights())
    again = fastconv.models.resnet18(classifier_activation=None, weights=tmp_path / "r18.npz")
    np.testing.assert_array_equal(again(x[:1]), model(x[:1]))
    weights = model.get_weights()
    del weights["layer3.1.bn2/moving_var"]
    np.savez(tmp_path / "partial.npz", **weights)
    with pytest.raises(ValueError, match=r"missing weights .*'layer3\.1\.bn2/moving_var'"):
        fastconv.models.resnet18(weights=tmp_path / "partial.npz")


def test_models_need_no_onnx_package():
    """A Model runs as the ONNX session's graph, built by fastconv itself: the onnx package (an
    optional extra) is never imported on the way."""
    code = ("import sys; sys.modules['onnx'] = None\n"   # any `import onnx` now raises ImportError
            "import numpy as np, fastconv\n"
            "m = fastconv.Sequential([fastconv.layers.Conv2D(16, 3, padding=1, activation='relu'),\n"
            "                         fastconv.layers.GlobalAveragePooling2D(), fastconv.layers.Dense(3)],\n"
            "                        input_shape=(3, 8, 8))\n"
            "print(m(np.ones((2, 3, 8, 8), np.float32)).shape)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(2, 3)"

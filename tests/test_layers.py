"""fastconv.layers / fastconv.Model: shape inference, fused == unfused, weights, save/load, errors."""
import numpy as np
import pytest

import fastconv
from fastconv.layers import (LRN, Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense,
                             Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, PReLU,
                             Softmax)
from reference import activation_ref, conv2d_ref, rel_err
from reference_layers import batch_norm_ref, lrn_ref, pool2d_ref, softmax_ref


def randomize_bn(model, rng):
    """Random BN statistics, so folding is really exercised (the defaults are the identity)."""
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            c = layer.channels
            layer.set_weights({"gamma": rng.uniform(0.5, 1.5, c), "beta": rng.standard_normal(c),
                               "moving_mean": rng.standard_normal(c) * 0.1, "moving_var": rng.uniform(0.5, 2, c)})
    model.compile()


def residual_block(stride, in_c, out_c):
    x = fastconv.Input((in_c, 9, 11), name="in")
    y = Conv2D(out_c, 3, strides=stride, padding=1, use_bias=False, name="c1")(x)
    y = BatchNormalization(name="b1")(y)
    y = Activation("relu", name="r1")(y)
    y = Conv2D(out_c, 3, padding=1, use_bias=False, name="c2")(y)
    y = BatchNormalization(name="b2")(y)
    s = x
    if stride != 1 or in_c != out_c:
        s = BatchNormalization(name="bd")(Conv2D(out_c, 1, strides=stride, use_bias=False, name="cd")(x))
    return x, Activation("relu", name="out")(Add(name="add")(y, s))


@pytest.mark.parametrize("stride,in_c,out_c", [(1, 8, 8), (2, 8, 16)])
def test_fused_resnet_block_equals_unfused_and_reference(isa, rng, stride, in_c, out_c):
    x_in, out = residual_block(stride, in_c, out_c)
    fused = fastconv.Model(x_in, out, seed=1)
    randomize_bn(fused, rng)
    unfused = fastconv.Model(x_in, out, fuse=False)
    # BN folded into both convs, the residual add and the relu in the second conv's epilogue.
    assert len(fused._steps) == (2 if stride == 1 and in_c == out_c else 3)
    assert len(unfused._steps) == 7 + (2 if len(fused._steps) == 3 else 0)
    x = rng.standard_normal((2, in_c, 9, 11)).astype(np.float32)
    yf, yu = fused(x), unfused(x)
    w = {k: v.astype(np.float64) for k, v in fused.get_weights().items()}

    def bn(t, name):
        return batch_norm_ref(t, w[f"{name}/gamma"], w[f"{name}/beta"], w[f"{name}/moving_mean"],
                              w[f"{name}/moving_var"], 1e-5)
    h = np.maximum(bn(conv2d_ref(x, w["c1/weight"], stride=(stride, stride), pads=(1,) * 4), "b1"), 0)
    h = bn(conv2d_ref(h, w["c2/weight"], pads=(1,) * 4), "b2")
    s = x if len(fused._steps) == 2 else bn(conv2d_ref(x, w["cd/weight"], stride=(stride, stride)), "bd")
    ref = np.maximum(h + s, 0)
    # Direct fp32 convs of depth <= 9 * out_c: ~1e-6 relative; folding changes rounding only.
    assert rel_err(yf, ref) < 2e-6
    assert rel_err(yu, ref) < 2e-6
    np.testing.assert_allclose(yf, yu, rtol=1e-4, atol=1e-5)


def test_sequential_every_layer_against_references(rng):
    layers = [Conv2D(6, 3, padding="same", activation="relu", name="conv"), LRN(3, 0.01, 0.75, 2.0, name="lrn"),
              MaxPooling2D(3, 2, ceil_mode=True, name="pool"), BatchNormalization(name="bn"), PReLU(name="prelu"),
              AveragePooling2D(2, 1, padding=1, count_include_pad=True, name="avg"), Dropout(0.3, name="drop"),
              Flatten(name="flat"), Dense(10, activation="tanh", name="fc"), Softmax(name="sm")]
    model = fastconv.Sequential(layers, input_shape=(3, 12, 10), seed=3)
    randomize_bn(model, rng)
    model.get_layer("prelu").set_weights({"slope": rng.uniform(0, 0.5, 6)})
    model.compile()
    x = rng.standard_normal((3, 3, 12, 10)).astype(np.float32)
    w = {k: v.astype(np.float64) for k, v in model.get_weights().items()}
    h = np.maximum(conv2d_ref(x, w["conv/weight"], w["conv/bias"], pads=(1,) * 4), 0)
    h = pool2d_ref(lrn_ref(h, 3, 0.01, 0.75, 2.0), "max", (3, 3), (2, 2), (1, 1), (0,) * 4, True)
    h = batch_norm_ref(h, w["bn/gamma"], w["bn/beta"], w["bn/moving_mean"], w["bn/moving_var"], 1e-5)
    h = np.where(h >= 0, h, h * w["prelu/slope"].reshape(-1, 1, 1))
    h = pool2d_ref(h, "avg", (2, 2), (1, 1), (1, 1), (1,) * 4, False, True).reshape(3, -1)
    ref = softmax_ref(np.tanh(h @ w["fc/weight"].T + w["fc/bias"]), -1)
    assert model.output_shape == (10,)
    np.testing.assert_allclose(model(x), ref, rtol=1e-5, atol=1e-6)
    h = x   # each layer's eager call, one after another, computes the same
    for layer in layers:
        h = layer.call(h)
    np.testing.assert_allclose(h, ref, rtol=1e-5, atol=1e-6)


def test_inception_style_concat_and_global_pools(rng, tmp_path):
    x = fastconv.Input((4, 7, 7))
    a = Conv2D(3, 1, name="a")(x)
    b = Conv2D(5, 3, padding=1, name="b")(x)
    c = MaxPooling2D(3, 1, padding=1, name="p")(x)
    y = Concatenate(name="cat")(a, b, c)
    g = GlobalAveragePooling2D(name="gap")(y)
    m = GlobalMaxPooling2D(keepdims=True, name="gmp")(y)
    model = fastconv.Model(x, [g, m])
    assert g.shape == (12,) and m.shape == (12, 1, 1)
    xs = rng.standard_normal((2, 4, 7, 7)).astype(np.float32)
    w = model.get_weights()
    cat = np.concatenate([conv2d_ref(xs, w["a/weight"], w["a/bias"]),
                          conv2d_ref(xs, w["b/weight"], w["b/bias"], pads=(1,) * 4),
                          pool2d_ref(xs, "max", (3, 3), (1, 1), (1, 1), (1,) * 4)], axis=1)
    yg, ym = model(xs)
    np.testing.assert_allclose(yg, cat.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ym, cat.max(axis=(2, 3), keepdims=True), rtol=1e-5, atol=1e-6)
    eager = model.get_layer("cat").call(*[model.get_layer(k).call(xs) for k in "abp"])   # the layers' eager calls
    np.testing.assert_allclose(model.get_layer("gap").call(eager), yg, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_layer("gmp").call(eager), ym, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "two_outputs.npz")
    for a, b in zip(fastconv.load(tmp_path / "two_outputs.npz")(xs), (yg, ym)):
        np.testing.assert_array_equal(a, b)


def test_save_load_roundtrip_and_weight_errors(tmp_path, rng):
    x_in, out = residual_block(2, 4, 8)
    model = fastconv.Model(x_in, out, name="block", seed=5)
    randomize_bn(model, rng)
    path = tmp_path / "block.npz"
    model.save(path)
    loaded = fastconv.load(path)
    x = rng.standard_normal((1, 4, 9, 11)).astype(np.float32)
    np.testing.assert_array_equal(loaded(x), model(x))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]

    weights = model.get_weights()
    missing = {k: v for k, v in weights.items() if k != "c2/weight"}
    np.savez(tmp_path / "missing.npz", **missing)
    with pytest.raises(ValueError, match=r"missing weights .*'c2/weight'"):
        model.load_weights(tmp_path / "missing.npz")
    bad = dict(weights, **{"b1/gamma": np.ones(3, np.float32)})
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(ValueError, match=r"weight b1/gamma has shape \(3,\), expected \(8,\)"):
        model.load_weights(tmp_path / "bad.npz")
    np.testing.assert_array_equal(model(x), loaded(x))  # a failed load changes nothing
    with pytest.raises(ValueError, match="not a fastconv model file"):
        fastconv.load(tmp_path / "bad.npz")


def test_predict_batches_and_progress_bar(rng, capsys):
    model = fastconv.Sequential([Flatten(), Dense(5, activation="relu")], input_shape=(2, 3, 3))
    x = rng.standard_normal((11, 2, 3, 3)).astype(np.float32)
    y = model.predict(x, batch_size=4, verbose=True)
    np.testing.assert_allclose(y, model(x), rtol=1e-6, atol=1e-6)
    assert "3/3 batches" in capsys.readouterr().err
    assert model.predict(x, batch_size=4, verbose=False).shape == (11, 5)
    assert "batches" not in capsys.readouterr().err


def test_summary_lists_shapes_params_flops():
    model = fastconv.Sequential([Conv2D(4, 3, name="c"), Flatten(name="f"), Dense(2, name="d")],
                                input_shape=(1, 5, 5))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "c (Conv2D)" in text and "(4, 3, 3)" in text and "(36,)" in text
    assert model.count_params() == 4 * 9 + 4 + 36 * 2 + 2
    assert model.count_flops() == 2 * 4 * 9 * 9 + 2 * 36 * 2


def test_layer_errors_name_layer_expected_and_got(rng):
    fc6 = Dense(4096, name="fc6")
    fc6.set_weights({"weight": np.zeros((4096, 9216), np.float32)})  # before connection: checked when called
    with pytest.raises(ValueError, match=r"Dense\(4096\) in layer 'fc6' expects 9216 features, got 4096"):
        fc6(fastconv.Input((4096,)))
    conv = Conv2D(8, 3, name="c")
    conv.set_weights({"bias": np.zeros(5, np.float32)})
    with pytest.raises(ValueError, match=r"weight c/bias has shape \(5,\), Conv2D\(8\) in layer 'c' expects \(8,\)"):
        fastconv.Model(*(lambda i: (i, conv(i)))(fastconv.Input((3, 6, 6))))
    with pytest.raises(ValueError, match=r"Dense\(10\) in layer 'd' expects \(features,\).*Flatten"):
        Dense(10, name="d")(fastconv.Input((3, 4, 4)))
    with pytest.raises(ValueError, match=r"MaxPooling2D.*'p' on input \(3, 2, 2\).*larger than the padded input"):
        MaxPooling2D(3, name="p")(fastconv.Input((3, 2, 2)))
    bn = BatchNormalization(name="bn")
    bn.set_weights({"gamma": np.ones(5, np.float32)})
    with pytest.raises(ValueError, match=r"'bn' has 5 channels, got input of 3 channels"):
        bn(fastconv.Input((3, 4, 4)))
    with pytest.raises(ValueError, match=r"Softmax.*axis 3 is out of range"):
        Softmax(axis=3, name="s")(fastconv.Input((3, 4)))
    with pytest.raises(ValueError, match=r"Add.*one shape"):
        Add(name="a")(fastconv.Input((3, 4)), fastconv.Input((3, 5)))
    model = fastconv.Sequential([Flatten(), Dense(3)], input_shape=(2, 2, 2))
    with pytest.raises(ValueError, match=r"expects shape \(N, 2, 2, 2\), got \(1, 2, 2, 3\)"):
        model(np.zeros((1, 2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="unknown activation"):
        Activation("gelu")
    with pytest.raises(ValueError, match="unique"):
        fastconv.Sequential([Flatten(name="x"), Dense(3, name="x")], input_shape=(2,))


def test_activation_layers_fuse_and_match(rng):
    for kind, params in [("relu", ()), ("leaky_relu", (0.2,)), ("sigmoid", ()), ("hard_swish", ()), ("elu", (0.5,))]:
        x = fastconv.Input((3, 5, 5))
        y = Activation(kind, *params, name="act")(BatchNormalization(name="bn")(Conv2D(4, 3, name="c")(x)))
        model = fastconv.Model(x, y)
        randomize_bn(model, rng)
        assert len(model._steps) == 1, kind
        xs = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
        w = {k: v.astype(np.float64) for k, v in model.get_weights().items()}
        h = batch_norm_ref(conv2d_ref(xs, w["c/weight"], w["c/bias"]), w["bn/gamma"], w["bn/beta"],
                           w["bn/moving_mean"], w["bn/moving_var"], 1e-5)
        np.testing.assert_allclose(model(xs), activation_ref(kind, h, *params), rtol=1e-5, atol=1e-5, err_msg=kind)


def test_model_runs_concurrently_from_threads(rng):
    """Compiled steps hold no per-call state: several Python threads may run one model at once."""
    from concurrent.futures import ThreadPoolExecutor

    x_in, out = residual_block(2, 4, 8)
    model = fastconv.Model(x_in, out)
    xs = [rng.standard_normal((2, 4, 9, 11)).astype(np.float32) for _ in range(8)]
    serial = [model(x) for x in xs]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(model, xs))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(__import__("fastconv.gpu").gpu.is_available(), reason="a GPU is present: tests/gpu runs the model there")
def test_cuda_model_without_a_gpu_says_how_to_get_one():
    with pytest.raises(ImportError, match=r"pip install fastconv\[gpu\]"):
        fastconv.Sequential([fastconv.layers.Flatten()], input_shape=(1, 2, 2), device="cuda")


@pytest.mark.parametrize("kind, params", [("relu6", ()), ("clip", (-0.5, 0.5)), ("silu", ()), ("softplus", ()),
                                          ("hard_sigmoid", (0.3, 0.4)), ("tanh", ()), ("softmax", ()),
                                          ("log_softmax", ())])
def test_cpu_model_runs_as_a_session_graph(rng, kind, params):
    """A Model runs as the ONNX session's graph (onnx/_from_model.py): every activation kind, a
    three-way Add with its activation, a Concat; optimized (fused) equal to unoptimized (fuse=False:
    every layer on its own, the graph as written)."""
    x = fastconv.Input((16, 6, 6))
    a = Conv2D(16, 3, padding="same", name="a")(x)
    b = Conv2D(16, 1, activation="relu", name="b")(x)
    s = Add(activation=("leaky_relu", 0.1), name="add")(a, b, x)
    y = Activation(kind, *params, name="act")(Concatenate(name="cat")(s, a))
    model, steps = fastconv.Model(x, y), fastconv.Model(x, y, fuse=False)
    assert len(model._steps) < len(steps._steps)   # the convs absorbed the Add and activations
    for n in (1, 3):
        xs = rng.standard_normal((n, 16, 6, 6)).astype(np.float32)
        for _ in range(3):   # the third run replays a recorded program
            assert rel_err(model(xs), steps(xs)) < 1e-5, kind

"""The classic ImageNet CNNs as fastconv Models: seeded He initialisation, standard shapes,
optional weights from a .npz file (names "layer/weight", see fastconv.model).

    model = fastconv.models.resnet50()            # random weights, seed 0
    model = fastconv.models.resnet50(weights="resnet50.npz")
    model.summary()

Each builder takes num_classes (1000), classifier_activation ("softmax" or None for logits),
seed and weights. Architectures: alexnet (BVLC/Caffe: LRN and two groups, 227x227), vgg16/vgg19
(configurations D/E), googlenet (Inception v1 as in the paper, without the auxiliary heads),
resnet18/resnet50 (v1.5: stride on the 3x3 conv, as torchvision).
"""
from __future__ import annotations

from .layers import (LRN, Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout,
                     Flatten, GlobalAveragePooling2D, Input, MaxPooling2D)
from .model import Model

__all__ = ["alexnet", "vgg16", "vgg19", "googlenet", "resnet18", "resnet50"]


def _finish(inp, x, name, num_classes, classifier_activation, seed, weights):
    if classifier_activation is not None:
        x = Activation(classifier_activation, name="prob")(x)
    model = Model(inp, x, name=name, seed=seed)
    if weights is not None:
        model.load_weights(weights)
    return model


def alexnet(num_classes=1000, classifier_activation="softmax", seed=0, weights=None) -> Model:
    """AlexNet as in BVLC Caffe (61M parameters, ~0.72 G multiply-adds at 3x227x227)."""
    inp = Input((3, 227, 227), name="data")
    x = Conv2D(96, 11, strides=4, activation="relu", name="conv1")(inp)
    x = LRN(5, 1e-4, 0.75, name="norm1")(x)
    x = MaxPooling2D(3, 2, name="pool1")(x)
    x = Conv2D(256, 5, padding=2, groups=2, activation="relu", name="conv2")(x)
    x = LRN(5, 1e-4, 0.75, name="norm2")(x)
    x = MaxPooling2D(3, 2, name="pool2")(x)
    x = Conv2D(384, 3, padding=1, activation="relu", name="conv3")(x)
    x = Conv2D(384, 3, padding=1, groups=2, activation="relu", name="conv4")(x)
    x = Conv2D(256, 3, padding=1, groups=2, activation="relu", name="conv5")(x)
    x = MaxPooling2D(3, 2, name="pool5")(x)
    x = Flatten(name="flatten")(x)
    x = Dense(4096, activation="relu", name="fc6")(x)
    x = Dropout(0.5, name="drop6")(x)
    x = Dense(4096, activation="relu", name="fc7")(x)
    x = Dropout(0.5, name="drop7")(x)
    x = Dense(num_classes, name="fc8")(x)
    return _finish(inp, x, "alexnet", num_classes, classifier_activation, seed, weights)


def _vgg(blocks, name, num_classes, classifier_activation, seed, weights):
    inp = x = Input((3, 224, 224), name="data")
    for b, (convs, width) in enumerate(blocks, start=1):
        for i in range(1, convs + 1):
            x = Conv2D(width, 3, padding=1, activation="relu", name=f"conv{b}_{i}")(x)
        x = MaxPooling2D(2, name=f"pool{b}")(x)
    x = Flatten(name="flatten")(x)
    x = Dense(4096, activation="relu", name="fc6")(x)
    x = Dropout(0.5, name="drop6")(x)
    x = Dense(4096, activation="relu", name="fc7")(x)
    x = Dropout(0.5, name="drop7")(x)
    x = Dense(num_classes, name="fc8")(x)
    return _finish(inp, x, name, num_classes, classifier_activation, seed, weights)


def vgg16(num_classes=1000, classifier_activation="softmax", seed=0, weights=None) -> Model:
    """VGG-16 (configuration D: 138M parameters, ~15.5 G multiply-adds)."""
    return _vgg([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)], "vgg16", num_classes, classifier_activation,
                seed, weights)


def vgg19(num_classes=1000, classifier_activation="softmax", seed=0, weights=None) -> Model:
    """VGG-19 (configuration E: 144M parameters, ~19.6 G multiply-adds)."""
    return _vgg([(2, 64), (2, 128), (4, 256), (4, 512), (4, 512)], "vgg19", num_classes, classifier_activation,
                seed, weights)


def _inception(x, name, c1, c3r, c3, c5r, c5, pool_proj):
    def conv(t, k, size, suffix):
        return Conv2D(k, size, padding=size // 2, activation="relu", name=f"{name}/{suffix}")(t)

    b1 = conv(x, c1, 1, "1x1")
    b2 = conv(conv(x, c3r, 1, "3x3_reduce"), c3, 3, "3x3")
    b3 = conv(conv(x, c5r, 1, "5x5_reduce"), c5, 5, "5x5")
    b4 = conv(MaxPooling2D(3, 1, padding=1, name=f"{name}/pool")(x), pool_proj, 1, "pool_proj")
    return Concatenate(name=f"{name}/output")(b1, b2, b3, b4)


def googlenet(num_classes=1000, classifier_activation="softmax", seed=0, weights=None) -> Model:
    """GoogLeNet / Inception v1 as in Szegedy et al. 2014, Table 1 (~7M parameters, ~1.5 G multiply-adds)."""
    inp = Input((3, 224, 224), name="data")
    x = Conv2D(64, 7, strides=2, padding=3, activation="relu", name="conv1/7x7_s2")(inp)
    x = MaxPooling2D(3, 2, ceil_mode=True, name="pool1/3x3_s2")(x)
    x = LRN(5, 1e-4, 0.75, name="pool1/norm1")(x)
    x = Conv2D(64, 1, activation="relu", name="conv2/3x3_reduce")(x)
    x = Conv2D(192, 3, padding=1, activation="relu", name="conv2/3x3")(x)
    x = LRN(5, 1e-4, 0.75, name="conv2/norm2")(x)
    x = MaxPooling2D(3, 2, ceil_mode=True, name="pool2/3x3_s2")(x)
    x = _inception(x, "inception_3a", 64, 96, 128, 16, 32, 32)
    x = _inception(x, "inception_3b", 128, 128, 192, 32, 96, 64)
    x = MaxPooling2D(3, 2, ceil_mode=True, name="pool3/3x3_s2")(x)
    x = _inception(x, "inception_4a", 192, 96, 208, 16, 48, 64)
    x = _inception(x, "inception_4b", 160, 112, 224, 24, 64, 64)
    x = _inception(x, "inception_4c", 128, 128, 256, 24, 64, 64)
    x = _inception(x, "inception_4d", 112, 144, 288, 32, 64, 64)
    x = _inception(x, "inception_4e", 256, 160, 320, 32, 128, 128)
    x = MaxPooling2D(3, 2, ceil_mode=True, name="pool4/3x3_s2")(x)
    x = _inception(x, "inception_5a", 256, 160, 320, 32, 128, 128)
    x = _inception(x, "inception_5b", 384, 192, 384, 48, 128, 128)
    x = AveragePooling2D(7, 1, name="pool5/7x7_s1")(x)
    x = Flatten(name="flatten")(x)
    x = Dropout(0.4, name="pool5/drop")(x)
    x = Dense(num_classes, name="loss3/classifier")(x)
    return _finish(inp, x, "googlenet", num_classes, classifier_activation, seed, weights)


def _conv_bn(x, filters, size, stride, name, relu=True):
    x = Conv2D(filters, size, strides=stride, padding=size // 2, use_bias=False, name=name)(x)
    x = BatchNormalization(name=name.replace("conv", "bn"))(x)
    return Activation("relu", name=name.replace("conv", "relu")) (x) if relu else x


def _basic_block(x, filters, stride, name):
    shortcut = x
    y = _conv_bn(x, filters, 3, stride, f"{name}.conv1")
    y = _conv_bn(y, filters, 3, 1, f"{name}.conv2", relu=False)
    if stride != 1 or x.shape[0] != filters:
        shortcut = _conv_bn(x, filters, 1, stride, f"{name}.downsample.conv", relu=False)
    return Activation("relu", name=f"{name}.relu")(Add(name=f"{name}.add")(y, shortcut))


def _bottleneck(x, filters, stride, name):
    shortcut = x
    y = _conv_bn(x, filters, 1, 1, f"{name}.conv1")
    y = _conv_bn(y, filters, 3, stride, f"{name}.conv2")
    y = _conv_bn(y, 4 * filters, 1, 1, f"{name}.conv3", relu=False)
    if stride != 1 or x.shape[0] != 4 * filters:
        shortcut = _conv_bn(x, 4 * filters, 1, stride, f"{name}.downsample.conv", relu=False)
    return Activation("relu", name=f"{name}.relu")(Add(name=f"{name}.add")(y, shortcut))


def _resnet(block, counts, name, num_classes, classifier_activation, seed, weights):
    inp = Input((3, 224, 224), name="data")
    x = _conv_bn(inp, 64, 7, 2, "conv1")
    x = MaxPooling2D(3, 2, padding=1, name="maxpool")(x)
    for stage, (count, filters) in enumerate(zip(counts, (64, 128, 256, 512)), start=1):
        for i in range(count):
            x = block(x, filters, 2 if stage > 1 and i == 0 else 1, f"layer{stage}.{i}")
    x = GlobalAveragePooling2D(name="avgpool")(x)
    x = Dense(num_classes, name="fc")(x)
    return _finish(inp, x, name, num_classes, classifier_activation, seed, weights)


def resnet18(num_classes=1000, classifier_activation="softmax", seed=0, weights=None) -> Model:
    """ResNet-18 (11.7M parameters, ~1.8 G multiply-adds)."""
    return _resnet(_basic_block, (2, 2, 2, 2), "resnet18", num_classes, classifier_activation, seed, weights)


def resnet50(num_classes=1000, classifier_activation="softmax", seed=0, weights=None) -> Model:
    """ResNet-50 v1.5 (25.6M parameters, ~4.1 G multiply-adds)."""
    return _resnet(_bottleneck, (3, 4, 6, 3), "resnet50", num_classes, classifier_activation, seed, weights)

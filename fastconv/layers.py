"""Keras-style layers over fastconv's kernels.

A layer is a description (its config), its weights (numpy arrays, get/set by name) and two
rules: how its output shape follows from its input shapes, and how to compute it eagerly.
Calling a layer on symbolic tensors (from `Input`) records a graph that `fastconv.Model`
compiles; shapes here are per sample, without the batch axis: (C, H, W) or (features,).

Weight layouts are the ONNX / PyTorch ones: Conv2D weight (filters, in/groups, kh, kw), Dense
weight (units, in_features).
"""
from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from . import elementwise as _E
from . import normalization as _N
from . import pooling as _P
from ._checks import activation as _activation
from ._checks import pads4, pair
from .conv import ConvPlan, conv_output_shape

__all__ = ["Input", "Layer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
           "GlobalMaxPooling2D", "BatchNormalization", "Activation", "PReLU", "Dense", "Flatten", "Dropout", "LRN",
           "Softmax", "Add", "Concatenate", "LAYERS"]

_uid = itertools.count()
_ELEMENTWISE_ACTS = ("relu", "relu6", "clip", "leaky_relu", "sigmoid", "tanh", "silu", "hard_sigmoid", "hard_swish",
                     "elu", "softplus")


class SymbolicTensor:
    """A layer's output in a graph under construction: its per-sample shape and where it comes from."""

    def __init__(self, shape, layer, inputs):
        self.shape, self.layer, self.inputs = tuple(int(d) for d in shape), layer, tuple(inputs)

    def __repr__(self):
        return f"<tensor {self.shape} from {self.layer.name!r}>"


class Layer:
    """Base class. Subclasses set `weight_names`, and implement output_shape, init_weights, call."""

    weight_names: tuple[str, ...] = ()
    non_trainable: tuple[str, ...] = ()  # statistics, not learned parameters (BN's moving mean/var)
    n_inputs = 1

    def __init__(self, name: str | None = None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"layer name must be a non-empty string, got {name!r}")
        self.name = name or f"{type(self).__name__.lower()}_{next(_uid)}"
        self.weights: dict[str, np.ndarray] = {}
        self.input_shapes: tuple | None = None

    # --- description -------------------------------------------------------------------------
    def config(self) -> dict:
        """The constructor arguments (JSON-serialisable) that rebuild this layer."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args}) in layer {self.name!r}"

    def _where(self) -> str:
        first = ", ".join(repr(v) for v in list(self.config().values())[:1])
        return f"{type(self).__name__}({first}) in layer {self.name!r}"

    # --- graph building -------------------------------------------------------------------------
    def __call__(self, *inputs):
        if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
            inputs = tuple(inputs[0])
        if not inputs or not all(isinstance(t, SymbolicTensor) for t in inputs):
            raise TypeError(f"{self._where()} must be called on tensors from fastconv.Input or other layers; to run "
                            f"it on arrays, build a fastconv.Model")
        if self.n_inputs is not None and len(inputs) != self.n_inputs:
            raise ValueError(f"{self._where()} takes {self.n_inputs} input(s), got {len(inputs)}")
        if self.input_shapes is not None:
            raise ValueError(f"layer {self.name!r} is already connected; create a new layer to reuse its config")
        shapes = tuple(t.shape for t in inputs)
        out = self.output_shape(*shapes)
        self.input_shapes = shapes
        return SymbolicTensor(out, self, inputs)

    def output_shape(self, *shapes) -> tuple:
        return shapes[0]

    def expected_weight_shapes(self) -> dict[str, tuple]:
        return {}

    def init_weights(self, rng: np.random.Generator) -> None:
        """Seeded initialisation of every weight not set yet (He normal for conv/dense, zero bias)."""

    # --- weights ---------------------------------------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        return dict(self.weights)

    def set_weights(self, weights: dict) -> None:
        """Sets weights by name; each must have the shape the layer expects (named in the error).
        Before the layer is connected its input shape is unknown: weights are then checked when it
        is called on a tensor (a Dense's in_features, a BN's channels follow from them)."""
        known = self.expected_weight_shapes() if self.input_shapes is not None else None
        for key, value in weights.items():
            if key not in self.weight_names or (known is not None and key not in known):
                names = list(known) if known is not None else list(self.weight_names)
                raise ValueError(f"{self._where()} has no weight {key!r}; its weights are {names}")
            arr = np.asarray(value)
            if not np.issubdtype(arr.dtype, np.floating):
                raise TypeError(f"weight {self.name}/{key} must be floating-point, got dtype {arr.dtype}")
            if known is not None and arr.shape != known[key]:
                raise ValueError(f"weight {self.name}/{key} has shape {arr.shape}, {self._where()} expects "
                                 f"{known[key]}")
            self.weights[key] = np.ascontiguousarray(arr, dtype=np.float32)

    def check_weights(self) -> None:
        """Raises ValueError naming any weight set before connection whose shape does not fit."""
        known = self.expected_weight_shapes()
        for key, arr in self.weights.items():
            if key in known and arr.shape != known[key]:
                raise ValueError(f"weight {self.name}/{key} has shape {arr.shape}, {self._where()} expects "
                                 f"{known[key]}")

    def count_params(self, trainable_only: bool = False) -> int:
        """Number of weights (as Keras: BN statistics included unless trainable_only, as PyTorch counts)."""
        return int(sum(math.prod(s) for k, s in self.expected_weight_shapes().items()
                       if not (trainable_only and k in self.non_trainable)))

    def flops(self, out_shape) -> int:
        """Floating-point operations per sample (a multiply-add is 2); element-wise layers count one per output."""
        return int(math.prod(out_shape))

    # --- compute -----------------------------------------------------------------------------------
    def call(self, *xs):
        """Eager computation on batched arrays with fastconv's functions, one layer at a time (a Model
        runs the layers' graph form instead, fastconv/onnx/_from_model.py)."""
        raise NotImplementedError


def Input(shape, name: str | None = None) -> SymbolicTensor:
    """A model input of per-sample shape `shape` (e.g. (3, 224, 224))."""
    layer = InputLayer(shape, name=name)
    return SymbolicTensor(layer.shape, layer, ())


class InputLayer(Layer):
    n_inputs = 0

    def __init__(self, shape, name=None):
        super().__init__(name)
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        if not shape or not all(isinstance(d, numbers.Integral) and d >= 1 for d in shape):
            raise ValueError(f"Input shape must be positive ints per sample (no batch axis), got {shape!r}")
        self.shape = tuple(int(d) for d in shape)

    def config(self):
        return {"shape": list(self.shape)}

    def flops(self, out_shape):
        return 0


def _he_uniform(rng, shape, fan_in):
    """He (Kaiming) uniform: U(-b, b) with b = sqrt(6 / fan_in), variance 2 / fan_in as He normal, but
    uniform float32 draws are ~10x faster than normal ones (VGG's 138M weights in well under a second)."""
    w = rng.random(shape, dtype=np.float32)
    bound = np.float32(math.sqrt(6.0 / fan_in))
    w *= 2 * bound
    w -= bound
    return w


def _check_act(act):
    _activation(act)  # raises for unknown kinds
    return act if act is None or isinstance(act, str) else list(act)


def _need_rank(layer, shape, rank, what):
    if len(shape) != rank:
        raise ValueError(f"{layer._where()} expects {what}, got per-sample shape {shape}")


class Conv2D(Layer):
    """2-D convolution: Conv2D(filters, kernel_size, strides=1, padding=0 | 'valid' | 'same' | (h, w) |
    (top, left, bottom, right), dilation=1, groups=1, activation=None, use_bias=True)."""

    weight_names = ("weight", "bias")

    def __init__(self, filters, kernel_size, strides=1, padding=0, dilation=1, groups=1, activation=None,
                 use_bias=True, name=None):
        super().__init__(name)
        if not isinstance(filters, numbers.Integral) or filters < 1:
            raise ValueError(f"Conv2D filters must be a positive int, got {filters!r}")
        self.filters, self.kernel_size = int(filters), pair(kernel_size, "kernel_size")
        self.strides, self.dilation = pair(strides, "strides"), pair(dilation, "dilation")
        if padding not in ("same", "valid"):
            padding = list(pads4(padding))
        self.padding = padding
        if not isinstance(groups, numbers.Integral) or groups < 1 or filters % groups:
            raise ValueError(f"Conv2D groups must be a positive int dividing filters={filters}, got {groups!r}")
        self.groups, self.activation, self.use_bias = int(groups), _check_act(activation), bool(use_bias)

    def config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "dilation": list(self.dilation), "groups": self.groups,
                "activation": self.activation, "use_bias": self.use_bias}

    def pads(self, h, w):
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":  # TF/ONNX SAME_UPPER: the extra padding goes after
            out = []
            for n, k, s, d in ((h, self.kernel_size[0], self.strides[0], self.dilation[0]),
                               (w, self.kernel_size[1], self.strides[1], self.dilation[1])):
                total = max((math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)
                out.append((total // 2, total - total // 2))
            return (out[0][0], out[1][0], out[0][1], out[1][1])
        return tuple(self.padding)

    def output_shape(self, shape):
        _need_rank(self, shape, 3, "(channels, height, width)")
        c, h, w = shape
        if c % self.groups:
            raise ValueError(f"{self._where()} has groups={self.groups}, which must divide the {c} input channels")
        if "weight" in self.weights and self.weights["weight"].shape[1] * self.groups != c:
            raise ValueError(f"{self._where()} expects {self.weights['weight'].shape[1] * self.groups} input "
                             f"channels, got {c}")
        try:
            _, k, oh, ow = conv_output_shape((1, c, h, w), (self.filters, c // self.groups) + self.kernel_size,
                                             self.strides, self.pads(h, w), self.dilation)
        except ValueError as e:
            raise ValueError(f"{self._where()} on input {shape}: {e}") from None
        self.in_channels = c
        return (k, oh, ow)

    def expected_weight_shapes(self):
        shapes = {"weight": (self.filters, self.in_channels // self.groups) + self.kernel_size}
        if self.use_bias:
            shapes["bias"] = (self.filters,)
        return shapes

    def init_weights(self, rng):
        shape = self.expected_weight_shapes()["weight"]
        if "weight" not in self.weights:
            self.weights["weight"] = _he_uniform(rng, shape, math.prod(shape[1:]))
        if self.use_bias and "bias" not in self.weights:
            self.weights["bias"] = np.zeros(self.filters, np.float32)

    def flops(self, out_shape):
        k, oh, ow = out_shape
        return 2 * k * oh * ow * (self.in_channels // self.groups) * self.kernel_size[0] * self.kernel_size[1]

    def plan(self, weight=None, bias=None, activation=None) -> ConvPlan:
        """A ConvPlan of this layer (optionally with folded weights / a fused activation)."""
        h, w = self.input_shapes[0][1:]
        return ConvPlan(self.weights["weight"] if weight is None else weight,
                        self.weights.get("bias") if bias is None else bias, self.strides, self.pads(h, w),
                        self.dilation, self.groups, activation)

    def call(self, x):
        return self.plan(activation=self.activation)(x)


class _Pool2D(Layer):
    def __init__(self, pool_size, strides=None, padding=0, ceil_mode=False, name=None):
        super().__init__(name)
        self.pool_size = pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else pair(strides, "strides")
        self.padding, self.ceil_mode = list(pads4(padding)), bool(ceil_mode)

    def config(self):
        return {"pool_size": list(self.pool_size), "strides": list(self.strides), "padding": self.padding,
                "ceil_mode": self.ceil_mode}

    def output_shape(self, shape):
        _need_rank(self, shape, 3, "(channels, height, width)")
        try:
            return _P.pool2d_output_shape((1,) + shape, self.pool_size, self.strides, self.padding,
                                          getattr(self, "dilation", 1), self.ceil_mode)[1:]
        except ValueError as e:
            raise ValueError(f"{self._where()} on input {shape}: {e}") from None

    def flops(self, out_shape):
        return math.prod(out_shape) * self.pool_size[0] * self.pool_size[1]


class MaxPooling2D(_Pool2D):
    """MaxPooling2D(pool_size, strides=None (= pool_size), padding=0, dilation=1, ceil_mode=False)."""

    def __init__(self, pool_size, strides=None, padding=0, dilation=1, ceil_mode=False, name=None):
        super().__init__(pool_size, strides, padding, ceil_mode, name)
        self.dilation = pair(dilation, "dilation")

    def config(self):
        return {**super().config(), "dilation": list(self.dilation)}

    def call(self, x):
        return _P.max_pool2d(x, self.pool_size, self.strides, self.padding, self.dilation, self.ceil_mode)


class AveragePooling2D(_Pool2D):
    """AveragePooling2D(pool_size, strides=None, padding=0, ceil_mode=False, count_include_pad=False)."""

    def __init__(self, pool_size, strides=None, padding=0, ceil_mode=False, count_include_pad=False, name=None):
        super().__init__(pool_size, strides, padding, ceil_mode, name)
        self.count_include_pad = bool(count_include_pad)

    def config(self):
        return {**super().config(), "count_include_pad": self.count_include_pad}

    def call(self, x):
        return _P.avg_pool2d(x, self.pool_size, self.strides, self.padding, self.ceil_mode, self.count_include_pad)


class _GlobalPool(Layer):
    def __init__(self, keepdims=False, name=None):
        super().__init__(name)
        self.keepdims = bool(keepdims)

    def config(self):
        return {"keepdims": self.keepdims}

    def output_shape(self, shape):
        _need_rank(self, shape, 3, "(channels, height, width)")
        return (shape[0], 1, 1) if self.keepdims else (shape[0],)

    def flops(self, out_shape):
        return math.prod(self.input_shapes[0])

    def call(self, x):
        y = self._fn(x)
        return y if self.keepdims else y.reshape(y.shape[0], -1)


class GlobalAveragePooling2D(_GlobalPool):
    """Mean over height and width: (C, H, W) -> (C,), or (C, 1, 1) with keepdims=True."""
    _fn = staticmethod(_P.global_avg_pool2d)


class GlobalMaxPooling2D(_GlobalPool):
    """Maximum over height and width: (C, H, W) -> (C,), or (C, 1, 1) with keepdims=True."""
    _fn = staticmethod(_P.global_max_pool2d)


class BatchNormalization(Layer):
    """Inference batch norm over axis 1 (channels): weights gamma, beta, moving_mean, moving_var."""

    weight_names = ("gamma", "beta", "moving_mean", "moving_var")
    non_trainable = ("moving_mean", "moving_var")

    def __init__(self, epsilon=1e-5, name=None):
        super().__init__(name)
        self.epsilon = float(epsilon)

    def config(self):
        return {"epsilon": self.epsilon}

    def output_shape(self, shape):
        if "gamma" in self.weights and self.weights["gamma"].shape[0] != shape[0]:
            raise ValueError(f"{self._where()} has {self.weights['gamma'].shape[0]} channels, got input of "
                             f"{shape[0]} channels (per-sample shape {shape})")
        self.channels = shape[0]
        return shape

    def expected_weight_shapes(self):
        return {k: (self.channels,) for k in self.weight_names}

    def init_weights(self, rng):
        for k, v in (("gamma", 1.0), ("beta", 0.0), ("moving_mean", 0.0), ("moving_var", 1.0)):
            self.weights.setdefault(k, np.full(self.channels, v, np.float32))

    def flops(self, out_shape):
        return 2 * math.prod(out_shape)

    def call(self, x):
        w = self.weights
        return _N.batch_norm(x, w["gamma"], w["beta"], w["moving_mean"], w["moving_var"], self.epsilon)


class Activation(Layer):
    """Activation('relu'), Activation('leaky_relu', 0.1), Activation('clip', 0, 6), Activation('softmax'), ...
    Kinds: relu, relu6, clip, leaky_relu, sigmoid, tanh, silu, hard_sigmoid, hard_swish, elu, softplus,
    softmax, log_softmax (over the channel axis)."""

    def __init__(self, kind, *params, name=None):
        super().__init__(name)
        if kind not in ("softmax", "log_softmax"):
            _activation((kind, *params))
        self.kind, self.params = kind, [float(p) for p in params]

    def config(self):
        return {"kind": self.kind, "params": self.params}

    @property
    def spec(self):
        """The activation as conv/dense epilogues take it, or None for the softmaxes (not element-wise)."""
        return (self.kind, *self.params) if self.kind in _ELEMENTWISE_ACTS else None

    def call(self, x):
        if self.kind == "softmax":
            return _N.softmax(x, axis=1)
        if self.kind == "log_softmax":
            return _N.log_softmax(x, axis=1)
        return _E.activation(x, self.kind, *self.params)


class PReLU(Layer):
    """x >= 0 ? x : slope[c] * x with a learned slope per channel (weight 'slope', initialised to 0.25)."""

    weight_names = ("slope",)

    def output_shape(self, shape):
        self.channels = shape[0]
        return shape

    def expected_weight_shapes(self):
        return {"slope": (self.channels,)}

    def init_weights(self, rng):
        self.weights.setdefault("slope", np.full(self.channels, 0.25, np.float32))

    def call(self, x):
        return _E.prelu(x, self.weights["slope"])


class Dense(Layer):
    """Fully connected: Dense(units, activation=None, use_bias=True) on (features,) inputs;
    weight (units, in_features) as ONNX Gemm with transB / PyTorch Linear."""

    weight_names = ("weight", "bias")

    def __init__(self, units, activation=None, use_bias=True, name=None):
        super().__init__(name)
        if not isinstance(units, numbers.Integral) or units < 1:
            raise ValueError(f"Dense units must be a positive int, got {units!r}")
        self.units, self.activation, self.use_bias = int(units), _check_act(activation), bool(use_bias)

    def config(self):
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias}

    def output_shape(self, shape):
        if len(shape) != 1:
            raise ValueError(f"{self._where()} expects (features,) per sample, got {shape}; add a Flatten() before it")
        if "weight" in self.weights and self.weights["weight"].shape[1] != shape[0]:
            raise ValueError(f"{self._where()} expects {self.weights['weight'].shape[1]} features, got {shape[0]}")
        self.in_features = shape[0]
        return (self.units,)

    def expected_weight_shapes(self):
        shapes = {"weight": (self.units, self.in_features)}
        if self.use_bias:
            shapes["bias"] = (self.units,)
        return shapes

    def init_weights(self, rng):
        if "weight" not in self.weights:
            self.weights["weight"] = _he_uniform(rng, (self.units, self.in_features), self.in_features)
        if self.use_bias and "bias" not in self.weights:
            self.weights["bias"] = np.zeros(self.units, np.float32)

    def flops(self, out_shape):
        return 2 * self.in_features * self.units

    def call(self, x):
        return _E.linear(x, self.weights["weight"], self.weights.get("bias"), self.activation)


class Flatten(Layer):
    """(C, H, W) -> (C * H * W,) per sample."""

    def output_shape(self, shape):
        return (math.prod(shape),)

    def flops(self, out_shape):
        return 0

    def call(self, x):
        return x.reshape(x.shape[0], -1)


class Dropout(Layer):
    """Identity at inference (rate kept for the config)."""

    def __init__(self, rate=0.5, name=None):
        super().__init__(name)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)

    def config(self):
        return {"rate": self.rate}

    def flops(self, out_shape):
        return 0

    def call(self, x):
        return x


class LRN(Layer):
    """Local response normalisation across channels, ONNX semantics: LRN(size, alpha=1e-4, beta=0.75, bias=1.0)."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, bias=1.0, name=None):
        super().__init__(name)
        if not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"LRN size must be a positive int, got {size!r}")
        self.size, self.alpha, self.beta, self.bias = int(size), float(alpha), float(beta), float(bias)

    def config(self):
        return {"size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}

    def output_shape(self, shape):
        _need_rank(self, shape, 3, "(channels, height, width)")
        return shape

    def flops(self, out_shape):
        return math.prod(out_shape) * (2 * self.size + 4)

    def call(self, x):
        return _N.lrn(x, self.size, self.alpha, self.beta, self.bias)


class Softmax(Layer):
    """Softmax over a per-sample axis (default the last one)."""

    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        self.axis = int(axis)

    def config(self):
        return {"axis": self.axis}

    def output_shape(self, shape):
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"{self._where()}: axis {self.axis} is out of range for per-sample shape {shape}")
        return shape

    def call(self, x):
        ax = self.axis % (x.ndim - 1) + 1
        return _N.softmax(x, axis=ax)


class Add(Layer):
    """Sum of two or more tensors of the same shape (residual connections), optionally activated."""

    n_inputs = None

    def __init__(self, activation=None, name=None):
        super().__init__(name)
        self.activation = _check_act(activation)

    def config(self):
        return {"activation": self.activation}

    def output_shape(self, *shapes):
        if len(shapes) < 2 or any(s != shapes[0] for s in shapes):
            raise ValueError(f"{self._where()} needs two or more inputs of one shape, got {list(shapes)}")
        return shapes[0]

    def flops(self, out_shape):
        return math.prod(out_shape) * (len(self.input_shapes) - 1)

    def call(self, *xs):
        y = xs[0]
        for i, x in enumerate(xs[1:]):
            y = _E.add(y, x, self.activation if i == len(xs) - 2 else None)
        return y


class Concatenate(Layer):
    """Concatenation along the channel axis (axis=1 of the batched tensor, as ONNX Concat)."""

    n_inputs = None

    def __init__(self, axis=1, name=None):
        super().__init__(name)
        if not isinstance(axis, numbers.Integral) or axis < 1:
            raise ValueError(f"Concatenate axis counts the batch axis as 0 and must be >= 1, got {axis!r}")
        self.axis = int(axis)

    def config(self):
        return {"axis": self.axis}

    def output_shape(self, *shapes):
        a = self.axis - 1
        ok = len(shapes) >= 1 and all(len(s) == len(shapes[0]) and len(s) > a for s in shapes) and all(
            s[:a] + s[a + 1:] == shapes[0][:a] + shapes[0][a + 1:] for s in shapes)
        if not ok:
            raise ValueError(f"{self._where()} needs inputs that differ only along axis {self.axis}, got {list(shapes)}")
        return shapes[0][:a] + (sum(s[a] for s in shapes),) + shapes[0][a + 1:]

    def flops(self, out_shape):
        return 0

    def call(self, *xs):
        return _E.concat(xs, axis=self.axis)


LAYERS = {cls.__name__: cls for cls in (InputLayer, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
                                        GlobalMaxPooling2D, BatchNormalization, Activation, PReLU, Dense, Flatten,
                                        Dropout, LRN, Softmax, Add, Concatenate)}

"""Models: a graph of layers compiled once into an InferenceSession over its ONNX-form graph.

    x = fastconv.Input((3, 32, 32))
    y = fastconv.layers.Conv2D(16, 3, padding=1)(x)
    y = fastconv.layers.BatchNormalization()(y)
    y = fastconv.layers.Activation("relu")(y)
    model = fastconv.Model(x, y)             # or fastconv.Sequential([...], input_shape=(3, 32, 32))
    probs = model.predict(images, batch_size=16)

Compiling (on construction and after weights change) writes the layers as the session's graph
(fastconv/onnx/_from_model.py) and lets its optimizer fold each BatchNormalization that follows a
Conv2D into the conv's weights, fuse a following Activation into the conv / dense / batch norm
epilogue, and fuse `Add` (+ activation) of a residual block into the conv that produces one of its
operands, so a ResNet block makes one pass over memory per convolution; on the CPU chains of layers
then run channel-blocked, as ONNX models do.

File format of save()/fastconv.load() (.npz, numpy's zip of arrays):
  "__fastconv_model__"   0-d unicode array: JSON {"format": 1, "name", "inputs": [layer names],
                         "outputs": [layer names], "layers": [{"class", "name", "config",
                         "inbound": [layer names]}]} in topological order.
  "<layer name>/<weight name>"   float32 weights, e.g. "conv1/weight" (filters, in/groups, kh, kw),
                         "conv1/bias", "bn1/gamma", "bn1/beta", "bn1/moving_mean", "bn1/moving_var",
                         "fc6/weight" (units, in_features), "fc6/bias", "prelu/slope".
`Model.load_weights(path)` reads only the weight entries, so a file written by another tool
with these names works too.
"""
from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

from ._device import check_device
from .layers import LAYERS, Activation, InputLayer, Layer, SymbolicTensor

__all__ = ["Model", "Sequential", "load"]
FORMAT_KEY = "__fastconv_model__"


class Model:
    """A graph from `inputs` to `outputs` (symbolic tensors). seed: initialises weights not set yet
    (He normal for Conv2D/Dense). fuse=False runs every layer on its own (for testing the fusions).
    device: "cpu" (numpy in and out) or "cuda" (fastconv.gpu's kernels: CuPy arrays in, or numpy
    uploaded once, and CuPy arrays out; nothing goes back to the host between layers);
    `model.to(device)` moves a built model."""

    def __init__(self, inputs, outputs, name: str = "model", seed: int = 0, fuse: bool = True, device: str = "cpu"):
        self.name, self.fuse, self.device = name, fuse, check_device(device)
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self.outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        for t in self.inputs + self.outputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"Model inputs/outputs must be tensors from fastconv.Input or layers, got {t!r}")
        for t in self.inputs:
            if not isinstance(t.layer, InputLayer):
                raise ValueError(f"Model input {t!r} is not a fastconv.Input")
        self._nodes = self._toposort()
        names = [n.layer.name for n in self._nodes]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"layer names must be unique in a model, repeated: {sorted(dup)}")
        for t in self._nodes:
            if isinstance(t.layer, InputLayer) and t not in self.inputs:
                raise ValueError(f"the outputs depend on input {t.layer.name!r}, which is not among the model inputs")
        rng = np.random.default_rng(seed)
        for t in self._nodes:
            t.layer.check_weights()
            t.layer.init_weights(rng)
        self.compile()

    # --- graph ---------------------------------------------------------------------------------------
    def _toposort(self):
        order, seen = [], set()
        stack = [(t, False) for t in reversed(self.outputs)]
        while stack:  # iterative DFS: deep ResNets would exceed Python's recursion limit
            t, done = stack.pop()
            if done:
                order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            stack.extend((i, False) for i in reversed(t.inputs) if id(i) not in seen)
        return order

    @property
    def layers(self) -> list[Layer]:
        return [t.layer for t in self._nodes]

    def get_layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"model {self.name!r} has no layer {name!r}")

    @property
    def input_shape(self):
        return self.inputs[0].shape

    @property
    def output_shape(self):
        return self.outputs[0].shape

    # --- compilation ---------------------------------------------------------------------------------
    def to(self, device: str) -> "Model":
        """Compiles the model for `device` ("cpu" or "cuda"); returns the model."""
        self.device = check_device(device)
        self.compile()
        return self

    def compile(self) -> None:
        """Builds the model's graph (fastconv/onnx/_from_model.py: one ONNX node per layer) and the
        InferenceSession that runs it on `device`: with fuse, its optimizer folds BN into convs and
        fuses activations and residual adds, and on the CPU runs chains of layers channel-blocked;
        fuse=False runs every layer on its own (for testing the fusions). Runs on construction and
        after set_weights/load_weights/to."""
        from .onnx import InferenceSession
        from .onnx._from_model import model_graph

        self._session = InferenceSession(model_graph(self), optimize=self.fuse, device=self.device)
        self._steps = list(self._session.graph.nodes)  # what runs, for summary() and the tests

    # --- running -----------------------------------------------------------------------------------
    def _check_input(self, x, k):
        """Input k as the session takes it: checked against the input's shape; float32, contiguous,
        and on the GPU for device="cuda" (numpy uploaded once, so predict's batches are GPU slices)."""
        t = self.inputs[k]
        if self.device == "cuda":
            from .gpu._arrays import as_gpu_float32
            x = as_gpu_float32(x, f"model input {t.layer.name!r}")
        else:
            x = np.asarray(x) if not isinstance(x, np.ndarray) else x
            if not np.issubdtype(x.dtype, np.floating):
                raise TypeError(f"model input {t.layer.name!r} must be floating-point, got dtype {x.dtype}")
        if x.ndim != len(t.shape) + 1 or tuple(x.shape[1:]) != t.shape:
            raise ValueError(f"model {self.name!r} input {t.layer.name!r} expects shape "
                             f"(N, {', '.join(map(str, t.shape))}), got {tuple(x.shape)}")
        return x if self.device == "cuda" else np.ascontiguousarray(x, dtype=np.float32)

    def __call__(self, *xs):
        """Runs the model on one batch: arrays (N, *input_shape) -> output array (or a list of them)."""
        if len(xs) != len(self.inputs):
            raise ValueError(f"model {self.name!r} takes {len(self.inputs)} input(s), got {len(xs)}")
        outs = self._session.run(None, {t.layer.name: self._check_input(x, k) for k, (t, x) in enumerate(zip(self.inputs, xs))})
        return outs[0] if len(outs) == 1 else outs

    def predict(self, x, batch_size: int = 32, verbose="auto"):
        """Runs the model over x in batches of batch_size. verbose: True shows a progress bar on stderr,
        "auto" shows it when the whole run looks like taking more than two seconds."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise ValueError(f"predict runs models with one input and one output; model {self.name!r} has "
                             f"{len(self.inputs)} and {len(self.outputs)}: call the model on each batch instead")
        x = self._check_input(x, 0)
        n = x.shape[0]
        xp = np
        if self.device == "cuda":
            from .gpu._backend import require_device
            xp = require_device()
        if n == 0:
            return xp.empty((0,) + self.output_shape, dtype=np.float32)
        batches = math.ceil(n / batch_size)
        outs, bar, start = [], None, time.perf_counter()
        for b in range(batches):
            outs.append(self(x[b * batch_size:(b + 1) * batch_size]))
            elapsed = time.perf_counter() - start
            if bar is None and b + 1 < batches and (verbose is True or (verbose == "auto" and
                                                                        elapsed / (b + 1) * batches > 2.0)):
                bar = _ProgressBar(batches)
            if bar is not None:
                bar.update(b + 1, elapsed)
        if bar is not None:
            bar.close()
        return xp.concatenate(outs, axis=0)

    # --- weights, summary, files -----------------------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        """All weights as {"layer/weight": array}."""
        return {f"{layer.name}/{k}": v for layer in self.layers for k, v in layer.weights.items()}

    def set_weights(self, weights: dict, strict: bool = True) -> None:
        """Sets weights from {"layer/weight": array} and recompiles. strict: every weight of the model must
        be given (missing ones are named) and no unknown names are accepted."""
        by_layer: dict[str, dict] = {}
        for key, value in weights.items():
            if "/" not in key:
                raise ValueError(f"weight name {key!r} must be 'layer/weight'")
            lname, wname = key.rsplit("/", 1)  # layer names may contain '/', weight names do not
            by_layer.setdefault(lname, {})[wname] = value
        layer_names = {layer.name for layer in self.layers}
        unknown = sorted(k for k in weights if k.rsplit("/", 1)[0] not in layer_names)
        if unknown:
            raise ValueError(f"weights for layers not in model {self.name!r}: {unknown[:10]}")
        if strict:
            missing = [f"{layer.name}/{k}" for layer in self.layers for k in layer.expected_weight_shapes()
                       if k not in by_layer.get(layer.name, {})]
            if missing:
                raise ValueError(f"missing weights for model {self.name!r}: {missing[:10]}"
                                 + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""))
        for layer in self.layers:  # check every shape before changing any
            expected = layer.expected_weight_shapes()
            for wname, value in by_layer.get(layer.name, {}).items():
                if wname not in expected:
                    raise ValueError(f"weight {layer.name}/{wname}: layer {layer.name!r} has weights {list(expected)}")
                if np.shape(value) != expected[wname]:
                    raise ValueError(f"weight {layer.name}/{wname} has shape {np.shape(value)}, expected "
                                     f"{expected[wname]}")
        for layer in self.layers:
            if layer.name in by_layer:
                layer.set_weights(by_layer[layer.name])
        self.compile()

    def load_weights(self, path, strict: bool = True) -> None:
        """Reads the "layer/weight" entries of a .npz file (see the module doc) into this model."""
        with np.load(path, allow_pickle=False) as f:
            self.set_weights({k: f[k] for k in f.files if k != FORMAT_KEY}, strict=strict)

    def count_params(self, trainable_only: bool = False) -> int:
        """Number of weights; trainable_only leaves out BN's moving statistics (PyTorch's count)."""
        return sum(layer.count_params(trainable_only) for layer in self.layers)

    def count_flops(self) -> int:
        """Floating-point operations for one sample (a multiply-add counts 2)."""
        return sum(t.layer.flops(t.shape) for t in self._nodes)

    def summary(self, print_fn=print) -> None:
        """Prints each layer's output shape, parameter count and FLOPs (per sample), and the fused steps."""
        rows = [(f"{t.layer.name} ({type(t.layer).__name__})", str(t.shape), f"{t.layer.count_params():,}",
                 _human(t.layer.flops(t.shape))) for t in self._nodes]
        heads = ("Layer (type)", "Output shape", "Params", "FLOPs")
        widths = [max(len(r[c]) for r in rows + [heads]) for c in range(4)]
        line = "  ".join(f"{{:<{w}}}" if c < 2 else f"{{:>{w}}}" for c, w in enumerate(widths))
        print_fn(f'Model "{self.name}"')
        print_fn(line.format(*heads))
        print_fn("-" * (sum(widths) + 6))
        for r in rows:
            print_fn(line.format(*r))
        print_fn("-" * (sum(widths) + 6))
        print_fn(f"Total params: {self.count_params():,}   FLOPs per sample: {_human(self.count_flops())} "
                 f"({self.count_flops():,})   compiled steps: {len(self._steps)}")

    def config(self) -> dict:
        return {"format": 1, "name": self.name,
                "inputs": [t.layer.name for t in self.inputs], "outputs": [t.layer.name for t in self.outputs],
                "layers": [{"class": type(t.layer).__name__, "name": t.layer.name, "config": t.layer.config(),
                            "inbound": [s.layer.name for s in t.inputs]} for t in self._nodes]}

    def save(self, path) -> None:
        """Writes the architecture and weights to a .npz file (format in the module doc)."""
        np.savez(path, **{FORMAT_KEY: np.array(json.dumps(self.config()))}, **self.get_weights())


class Sequential(Model):
    """A plain stack: Sequential([Conv2D(...), MaxPooling2D(...), ...], input_shape=(3, 224, 224))."""

    def __init__(self, layers, input_shape, name: str = "sequential", seed: int = 0, fuse: bool = True,
                 device: str = "cpu"):
        from .layers import Input

        x = inp = Input(input_shape, name="input")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes layers, got {layer!r}")
            x = layer(x)
        super().__init__(inp, x, name=name, seed=seed, fuse=fuse, device=device)


def _human(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


class _ProgressBar:
    """A one-line progress bar on stderr (no dependency)."""

    def __init__(self, total):
        self.total = total

    def update(self, done, elapsed):
        width = 30
        fill = int(width * done / self.total)
        eta = elapsed / done * (self.total - done)
        sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} batches "
                         f"{elapsed:.1f}s elapsed, ~{eta:.1f}s left")
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")


def _layer_from_config(entry) -> Layer:
    cls = LAYERS.get(entry["class"])
    if cls is None:
        raise ValueError(f"unknown layer class {entry['class']!r} for layer {entry['name']!r}")
    cfg = dict(entry["config"])
    if cls is Activation:
        return Activation(cfg["kind"], *cfg.get("params", []), name=entry["name"])
    return cls(**cfg, name=entry["name"])


def load(path, fuse: bool = True, device: str = "cpu") -> Model:
    """Reads a model written by Model.save (architecture and weights; see fastconv.model for the format),
    compiled for `device` ("cpu" or "cuda")."""
    with np.load(path, allow_pickle=False) as f:
        if FORMAT_KEY not in f.files:
            raise ValueError(f"{path} has no {FORMAT_KEY!r} entry: not a fastconv model file (to read weights into "
                             f"a model you built, use model.load_weights)")
        cfg = json.loads(str(f[FORMAT_KEY]))
        weights = {k: f[k] for k in f.files if k != FORMAT_KEY}
    if cfg.get("format") != 1:
        raise ValueError(f"{path}: unsupported fastconv model format {cfg.get('format')!r}")
    from .layers import SymbolicTensor as T

    tensors = {}
    for entry in cfg["layers"]:
        layer = _layer_from_config(entry)
        if isinstance(layer, InputLayer):
            tensors[layer.name] = T(layer.shape, layer, ())
        else:
            tensors[layer.name] = layer(*[tensors[n] for n in entry["inbound"]])
    # Weights are checked (missing / mis-shaped ones named) before any initialisation happens.
    model = Model.__new__(Model)
    model.name, model.fuse, model.device = cfg["name"], fuse, check_device(device)
    model.inputs = [tensors[n] for n in cfg["inputs"]]
    model.outputs = [tensors[n] for n in cfg["outputs"]]
    model._nodes = model._toposort()
    model._steps = []
    model.set_weights(weights, strict=True)
    return model

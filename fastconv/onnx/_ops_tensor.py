"""Element-wise math, reductions and data movement. These are not kernels: numpy does them, except
Add/Mul/Concat on float32, which go to fastconv's layer functions."""
from __future__ import annotations

import math

import numpy as np

from . import _layers
from ._registry import OpError, op


def _legacy_broadcast(node, a, b):
    """Opset < 7 broadcasting: b aligned to a starting at `axis`."""
    if node.attrs.get("broadcast", 0) and "axis" in node.attrs and b.ndim and b.ndim < a.ndim:
        axis = node.attrs["axis"] % a.ndim
        b = b.reshape(b.shape + (1,) * (a.ndim - axis - b.ndim))
    return b


def _int_div(a, b):
    return np.trunc(np.true_divide(a, b)).astype(np.result_type(a, b))


_BINARY = {"Sub": np.subtract, "Div": np.true_divide, "Equal": np.equal}


@op("Add", "Mul", "Sub", "Div", "Equal")
def binary(node, ctx):
    def run(a, b, out=None):
        b = _legacy_broadcast(node, a, b)
        if node.op in ("Add", "Mul") and _layers.is_f32(a, b):
            shape = np.broadcast_shapes(a.shape, b.shape)
            fits = out is not None and out.shape == shape and out.dtype == np.float32
            return _layers.get(node.op.lower())(a, b, out=out if fits else None)
        if node.op == "Add":
            return np.add(a, b)
        if node.op == "Mul":
            return np.multiply(a, b)
        if node.op == "Div" and a.dtype.kind in "iu":
            return _int_div(a, b)
        y = _BINARY[node.op](a, b)
        return y if node.op == "Equal" else y.astype(np.result_type(a, b), copy=False)

    run.accepts_out = node.op in ("Add", "Mul")
    return run


@op("Pow")
def power(node, ctx):
    def run(a, b):
        if a.dtype.kind in "iu":
            return np.power(a.astype(np.float64), b).astype(a.dtype)
        return np.power(a, b.astype(a.dtype) if b.dtype != a.dtype else b).astype(a.dtype)

    return run


_erf = np.vectorize(math.erf, otypes=[np.float64])
_UNARY = {"Sqrt": np.sqrt, "Exp": np.exp, "Erf": lambda x: _erf(x).astype(x.dtype)}


@op(*_UNARY)
def unary(node, ctx):
    fn = _UNARY[node.op]
    return lambda x: fn(x).astype(x.dtype, copy=False)


@op("Sum", "Max", "Min")
def variadic(node, ctx):
    fn = {"Sum": np.add, "Max": np.maximum, "Min": np.minimum}[node.op]

    def run(*xs):
        xs = [x for x in xs if x is not None]
        y = xs[0]
        for x in xs[1:]:
            if node.op == "Sum" and _layers.is_f32(y, x):
                y = _layers.get("add")(y, x)
            else:
                y = fn(y, x)
        return y.copy() if len(xs) == 1 else y

    return run


@op("Where")
def where(node, ctx):
    return lambda c, x, y: np.where(c, x, y)


def _axes_arg(node, ctx, data, since, inputs_axes):
    """Reduction/Squeeze axes from the attribute (opset < since) or the second input."""
    if ctx.opset < since:
        axes = node.attrs.get("axes")
    else:
        axes = None if inputs_axes is None else [int(a) for a in np.asarray(inputs_axes).reshape(-1)]
    return None if axes is None else tuple(int(a) % max(data.ndim, 1) for a in axes)


@op("ReduceMean", "ReduceSum", "ReduceMax")
def reduce(node, ctx):
    since = 13 if node.op == "ReduceSum" else 18
    keep = bool(node.attrs.get("keepdims", 1))
    noop = bool(node.attrs.get("noop_with_empty_axes", 0))
    fn = {"ReduceMean": np.mean, "ReduceSum": np.sum, "ReduceMax": np.max}[node.op]

    def run(x, axes=None):
        ax = _axes_arg(node, ctx, x, since, axes)
        if ax is not None and len(ax) == 0:
            ax = None
        if ax is None and noop and (ctx.opset >= since) and (axes is None or np.asarray(axes).size == 0):
            return x
        if node.op == "ReduceMax" and x.size == 0:
            out_shape = [1 if (ax is None or i in ax) else d for i, d in enumerate(x.shape)]
            if not keep:
                out_shape = [d for i, d in enumerate(x.shape) if not (ax is None or i in ax)]
            fill = -np.inf if x.dtype.kind == "f" else (False if x.dtype == bool else np.iinfo(x.dtype).min)
            return np.full(out_shape, fill, dtype=x.dtype)
        kw = {"dtype": np.float64} if node.op == "ReduceMean" and x.dtype.kind == "f" else {}
        return np.asarray(fn(x, axis=ax, keepdims=keep, **kw)).astype(x.dtype)

    return run


@op("Flatten")
def flatten(node, ctx):
    axis = int(node.attrs.get("axis", 1))

    def run(x):
        ax = axis + x.ndim if axis < 0 else axis
        return x.reshape(int(np.prod(x.shape[:ax], dtype=np.int64)), int(np.prod(x.shape[ax:], dtype=np.int64)))

    run.is_view = True  # its result depends only on the input's shape: a recorded program skips it
    return run


@op("Reshape")
def reshape(node, ctx):
    allowzero = bool(node.attrs.get("allowzero", 0))

    def run(x, shape=None):
        target = list(node.attrs["shape"]) if ctx.opset < 5 else [int(s) for s in shape.reshape(-1)]
        if not allowzero:
            target = [x.shape[i] if s == 0 and i < x.ndim else s for i, s in enumerate(target)]
        try:
            return x.reshape(target)
        except ValueError:
            raise OpError(f"{node.label()}: cannot reshape input of shape {x.shape} to {target}") from None

    # with a constant target shape the result depends only on the input's shape: a view a recorded
    # program skips (a computed shape could depend on values, so those stay in Python)
    run.is_view = ctx.opset < 5 or ctx.const(node, 1) is not None
    return run


@op("Transpose")
def transpose(node, ctx):
    perm = node.attrs.get("perm")
    return lambda x: np.transpose(x, perm if perm else None)


@op("Squeeze")
def squeeze(node, ctx):
    def run(x, axes=None):
        ax = _axes_arg(node, ctx, x, 13, axes)
        if ax is None:
            return x.reshape([d for d in x.shape if d != 1])
        return np.squeeze(x, axis=ax)

    return run


@op("Unsqueeze")
def unsqueeze(node, ctx):
    def run(x, axes=None):
        ax = node.attrs["axes"] if ctx.opset < 13 else [int(a) for a in axes.reshape(-1)]
        rank = x.ndim + len(ax)
        ax = sorted(int(a) % rank for a in ax)
        shape = list(x.shape)
        for a in ax:
            shape.insert(a, 1)
        return x.reshape(shape)

    return run


@op("Concat")
def concat(node, ctx):
    axis = int(node.attrs.get("axis", 1))
    blocked = bool(node.attrs.get("_blocked"))  # blocked parts (N, C/16, H, W, 16): whole blocks along axis 1
    if blocked:
        axis = 1

    def run(*xs, out=None):
        xs = [x for x in xs if x is not None]
        if _layers.is_f32(*xs) and (xs[0].ndim == 4 or blocked) and axis in (1, -3):
            # the planned buffer (written in place: no fresh pages to fault in per run)
            shape = xs[0].shape[:1] + (sum(x.shape[1] for x in xs),) + xs[0].shape[2:]
            fits = out is not None and out.size == sum(x.size for x in xs) == int(np.prod(shape))
            return _layers.get("concat")(xs, axis=1, out=out.reshape(shape) if fits else None)
        return np.concatenate(xs, axis=axis)

    def record(program, args, y, dyn):
        """A channel concat into its planned buffer, for a session's recorded program."""
        xs = [x for x in args if x is not None]
        if axis not in (1, -3) or y.ndim != (5 if blocked else 4) or not all(_layers.plain_f32(a) for a in xs + [y]):
            return False
        program.add_concat(xs, [dyn(x) for x in xs], y)
        return True

    run.accepts_out = True
    run.record = record
    return run


@op("Split")
def split(node, ctx):
    axis = int(node.attrs.get("axis", 0))
    n_out = len(node.outputs)

    def run(x, split_sizes=None):
        sizes = node.attrs.get("split") if ctx.opset < 13 else (
            None if split_sizes is None else [int(s) for s in split_sizes.reshape(-1)])
        dim = x.shape[axis]
        if sizes is None:
            per = -(-dim // n_out)
            sizes = [min(per, dim - i * per) for i in range(n_out)]
        if sum(sizes) != dim:
            raise OpError(f"{node.label()}: split sizes {sizes} do not add up to dimension {axis} of {x.shape}")
        idx = np.cumsum(sizes)[:-1]
        return tuple(np.split(x, idx, axis=axis))

    return run


@op("Slice")
def slice_(node, ctx):
    def run(x, starts=None, ends=None, axes=None, steps=None):
        if ctx.opset < 10:
            starts, ends, axes = node.attrs["starts"], node.attrs["ends"], node.attrs.get("axes")
        starts = [int(s) for s in np.asarray(starts).reshape(-1)]
        ends = [int(e) for e in np.asarray(ends).reshape(-1)]
        axes = list(range(len(starts))) if axes is None else [int(a) % x.ndim for a in np.asarray(axes).reshape(-1)]
        steps = [1] * len(starts) if steps is None else [int(s) for s in np.asarray(steps).reshape(-1)]
        index = [slice(None)] * x.ndim
        for s, e, a, st in zip(starts, ends, axes, steps):
            if st == 0:
                raise OpError(f"{node.label()}: slice step 0 on axis {a}")
            dim = x.shape[a]
            # clamp like ONNX (numpy does too, except for huge negatives with negative steps)
            s = max(-dim - 1, min(s, dim)) if st < 0 else max(-dim, min(s, dim))
            e = max(-dim - 1, min(e, dim)) if st < 0 else max(-dim, min(e, dim))
            if st < 0 and e == -dim - 1:
                e = None
            index[a] = slice(s, e, st)
        return x[tuple(index)]

    return run


@op("Gather")
def gather(node, ctx):
    axis = int(node.attrs.get("axis", 0))

    def run(x, idx):
        dim = x.shape[axis]
        if idx.size and (idx.min() < -dim or idx.max() >= dim):
            raise OpError(f"{node.label()}: indices out of range [{-dim}, {dim}) for axis {axis} of {x.shape}")
        return np.take(x, idx.astype(np.int64), axis=axis)

    return run


@op("Pad")
def pad(node, ctx):
    mode = node.attrs.get("mode", "constant")

    def run(x, pads=None, value=None, axes=None):
        if ctx.opset < 11:
            pads, value = node.attrs.get("pads", node.attrs.get("paddings")), node.attrs.get("value", 0.0)
        pads = [int(p) for p in np.asarray(pads).reshape(-1)]
        value = 0 if value is None or np.asarray(value).size == 0 else np.asarray(value).reshape(-1)[0]
        axes = list(range(x.ndim)) if axes is None else [int(a) % x.ndim for a in np.asarray(axes).reshape(-1)]
        k = len(axes)
        width = [(0, 0)] * x.ndim
        for i, a in enumerate(axes):
            width[a] = (pads[i], pads[i + k])
        crop = tuple(slice(-b if b < 0 else 0, e if e < 0 else None) for b, e in width)
        x = x[crop]
        width = [(max(b, 0), max(e, 0)) for b, e in width]
        if mode == "constant":
            return np.pad(x, width, mode="constant", constant_values=value)
        if mode in ("reflect", "edge", "wrap"):
            return np.pad(x, width, mode=mode)
        raise OpError(f"{node.label()}: unknown Pad mode {mode!r}")

    return run


@op("Shape")
def shape(node, ctx):
    start, end = node.attrs.get("start", 0), node.attrs.get("end")
    return lambda x: np.array(x.shape[start:end], dtype=np.int64)


_STRING = 8


@op("Cast")
def cast(node, ctx):
    from onnx import helper

    to = int(node.attrs["to"])
    if to == _STRING:
        raise OpError(f"{node.label()}: Cast to string is not supported")
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(to))
    return lambda x: x.astype(dtype)


@op("Constant")
def constant(node, ctx):
    a = node.attrs
    if "value" in a:
        v = np.asarray(a["value"])
    elif "value_float" in a:
        v = np.array(a["value_float"], np.float32)
    elif "value_floats" in a:
        v = np.array(a["value_floats"], np.float32)
    elif "value_int" in a:
        v = np.array(a["value_int"], np.int64)
    elif "value_ints" in a:
        v = np.array(a["value_ints"], np.int64)
    else:
        raise OpError(f"{node.label()}: Constant with attributes {sorted(a)} is not supported")
    return lambda: v


@op("ConstantOfShape")
def constant_of_shape(node, ctx):
    value = node.attrs.get("value")
    value = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)

    def run(shape):
        dims = [int(s) for s in shape.reshape(-1)]
        if any(d < 0 for d in dims):
            raise OpError(f"{node.label()}: negative dimension in shape {dims}")
        return np.full(dims, value[0], dtype=value.dtype)

    return run


@op("Range")
def range_(node, ctx):
    def run(start, limit, delta):
        s, l, d = start.reshape(()).item(), limit.reshape(()).item(), delta.reshape(()).item()
        n = max(int(math.ceil((l - s) / d)), 0)
        return (s + np.arange(n) * d).astype(start.dtype)

    return run


@op("Expand")
def expand(node, ctx):
    def run(x, shape):
        target = np.broadcast_shapes(x.shape, tuple(int(s) for s in shape.reshape(-1)))
        return np.broadcast_to(x, target)

    return run


@op("Tile")
def tile(node, ctx):
    return lambda x, reps: np.tile(x, [int(r) for r in reps.reshape(-1)])


@op("Resize", "Upsample")
def resize(node, ctx):
    from ._resize import make_resize

    return make_resize(node, ctx)

"""Graph optimizer: passes over the session's Graph, each a function Graph -> Graph that keeps the
model's outputs the same (up to float32 rounding) and can be run and tested on its own.

Order (optimize()): constants first (so shape chains and ConstantOfShape weights become plain constants),
then pass-through removal, then folding per-channel affine maps into Conv/BatchNorm, then fusing
residual adds and activations into the kernels' epilogues, then dead-node removal.
"""
from __future__ import annotations

import numpy as np

from ._ir import Graph, Node
from ._registry import OPS, OpContext

# Folding larger results would only trade a cheap run-time op for a big constant held in memory.
_FOLD_LIMIT = 1 << 26


def _single_consumer(g: Graph, value: str, users=None) -> Node | None:
    users = g.consumers() if users is None else users
    u = users.get(value, [])
    if len(u) == 1 and value not in g.output_names():
        return u[0]
    return None


def _rename_uses(g: Graph, old: str, new: str) -> None:
    for n in g.nodes:
        n.inputs = [new if i == old else i for i in n.inputs]


# -- constant folding ---------------------------------------------------------------------------
def fold_constants(g: Graph) -> Graph:
    """Evaluates every node whose inputs are all constant (ConstantOfShape, Constant, Unsqueeze of
    weights, Shape->Gather->Unsqueeze->Concat->Reshape chains...). Shape of a value whose shape is
    statically known, and Shape->Gather picking only static dimensions, fold too."""
    g = g.copy()
    ctx = OpContext(g.opset, g.constants)
    kept = []
    for n in g.nodes:
        ins = [i for i in n.inputs if i]
        value = None
        if all(i in g.constants for i in ins) and n.op not in ("Dropout",) and not n.attrs.get("_activation") \
                and _result_size(n, g.constants) <= _FOLD_LIMIT:
            try:
                out = OPS[n.op](n, ctx)(*[g.constants[i] if i else None for i in n.inputs])
            except Exception:  # leave it to run time, where the error names the node and the shapes
                out = None
            if out is not None:
                value = out if isinstance(out, tuple) else (out,)
        elif n.op == "Shape" and n.inputs[0] in g.shapes:
            shape = g.shapes[n.inputs[0]]
            start, end = n.attrs.get("start", 0), n.attrs.get("end")
            part = shape[start:end]
            if all(isinstance(d, int) for d in part):
                value = (np.array(part, np.int64),)
        if value is None:
            kept.append(n)
            continue
        for name, v in zip(n.outputs, value):
            if name:
                g.constants[name] = np.asarray(v)
    g.nodes = kept
    return _fold_shape_gather(g) if any(n.op == "Gather" for n in kept) else g


def _result_size(n: Node, constants) -> float:
    """An upper estimate of what folding an expanding op would allocate (others: their input size)."""
    ins = [constants[i] for i in n.inputs if i]
    try:
        if n.op == "ConstantOfShape":
            return float(np.prod(ins[0].astype(np.float64)))
        if n.op == "Expand":
            return float(np.prod(np.broadcast_shapes(ins[0].shape, tuple(int(d) for d in ins[1].reshape(-1)))))
        if n.op == "Tile":
            return float(ins[0].size * np.prod(ins[1].astype(np.float64)))
        if n.op == "Range":
            start, limit, delta = (float(v.reshape(-1)[0]) for v in ins)
            return abs((limit - start) / delta) if delta else float("inf")
    except Exception:
        return float("inf")  # let run time report the problem with the node's name
    return 0.0


def _fold_shape_gather(g: Graph) -> Graph:
    """Shape(x) -> Gather(static indices) where those dimensions of x are static: a constant."""
    producers = g.producers()
    changed = False
    kept = []
    for n in g.nodes:
        src = producers.get(n.inputs[0]) if n.op == "Gather" else None
        idx = g.constants.get(n.inputs[1]) if n.op == "Gather" and len(n.inputs) > 1 else None
        if src is not None and src.op == "Shape" and idx is not None and src.inputs[0] in g.shapes \
                and "start" not in src.attrs and "end" not in src.attrs:
            shape = g.shapes[src.inputs[0]]
            dims = [shape[int(i)] for i in np.asarray(idx).reshape(-1)]
            if all(isinstance(d, int) for d in dims):
                g.constants[n.outputs[0]] = np.array(dims, np.int64).reshape(np.shape(idx))
                changed = True
                continue
        kept.append(n)
    g.nodes = kept
    return fold_constants(g) if changed else g


# -- removal ------------------------------------------------------------------------------------
def remove_passthrough(g: Graph) -> Graph:
    """Identity and inference-mode Dropout disappear: their readers read the input directly."""
    g = g.copy()
    outputs = g.output_names()
    users = g.consumers()
    kept = []
    for n in g.nodes:
        mask_used = len(n.outputs) > 1 and n.outputs[1] and (n.outputs[1] in users or n.outputs[1] in outputs)
        passthrough = n.op == "Identity" or (n.op == "Dropout" and not mask_used)
        if passthrough and n.outputs[0] not in outputs:
            _rename_uses(g, n.outputs[0], n.inputs[0])
            continue
        kept.append(n)
    g.nodes = kept
    return g


def remove_dead(g: Graph) -> Graph:
    """Drops nodes no graph output depends on, and constants nothing reads."""
    g = g.copy()
    needed = g.output_names()
    kept = []
    for n in reversed(g.nodes):
        if any(o in needed for o in n.outputs if o):
            kept.append(n)
            needed.update(i for i in n.inputs if i)
    g.nodes = kept[::-1]
    g.constants = {k: v for k, v in g.constants.items() if k in needed}
    return g


# -- folding affine maps into Conv --------------------------------------------------------------
def _conv_params(g: Graph, conv: Node):
    """(weight, bias) of a Conv with constant parameters and no fused epilogue yet, or None."""
    if conv.op != "Conv" or conv.attrs.get("_activation") or len(conv.inputs) > 3:
        return None
    w = g.constants.get(conv.inputs[1])
    if w is None or w.dtype != np.float32:
        return None
    has_b = len(conv.inputs) > 2 and conv.inputs[2]
    b = g.constants.get(conv.inputs[2]) if has_b else np.zeros(w.shape[0], np.float32)
    return None if b is None else (w.astype(np.float64), b.astype(np.float64))


def _set_conv_params(g: Graph, conv: Node, w, b) -> None:
    base = conv.outputs[0]
    wn, bn = f"{base}::folded_w", f"{base}::folded_b"
    while wn in g.constants:
        wn, bn = wn + "'", bn + "'"
    g.constants[wn], g.constants[bn] = w.astype(np.float32), b.astype(np.float32)
    conv.inputs = [conv.inputs[0], wn, bn]


def fold_batch_norm(g: Graph) -> Graph:
    """Conv -> BatchNormalization (constant statistics, the Conv's only reader) becomes one Conv:
    w' = w * scale / sqrt(var + eps) per output channel, b' = (b - mean) * that + beta."""
    g = g.copy()
    users = g.consumers()
    producers = g.producers()
    drop = set()
    for bn in g.nodes:
        if bn.op != "BatchNormalization" or len([o for o in bn.outputs if o]) != 1 or bn.attrs.get("_activation"):
            continue
        conv = producers.get(bn.inputs[0])
        params = [g.constants.get(i) for i in bn.inputs[1:5]]
        if conv is None or any(p is None for p in params) or _single_consumer(g, conv.outputs[0], users) is not bn:
            continue
        wb = _conv_params(g, conv)
        if wb is None or params[0].size != wb[0].shape[0]:
            continue
        scale, beta, mean, var = (np.asarray(p, np.float64).reshape(-1) for p in params)
        inv = scale / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5)))
        w, b = wb
        _set_conv_params(g, conv, w * inv.reshape((-1,) + (1,) * (w.ndim - 1)), (b - mean) * inv + beta)
        conv.outputs = [bn.outputs[0]]
        drop.add(id(bn))
    g.nodes = [n for n in g.nodes if id(n) not in drop]
    return g


def _per_channel(c: np.ndarray, channels: int, rank: int):
    """c as a (channels,) vector if it broadcasts per channel over an NC... tensor of this rank."""
    c = np.asarray(c)
    if c.dtype.kind != "f" or c.ndim > rank:
        return None
    if c.size == 1:
        return np.full(channels, float(c.reshape(-1)[0]))
    full = (1,) * (rank - c.ndim) + c.shape
    if full[0] == 1 and full[1] == channels and all(d == 1 for d in full[2:]):
        return c.reshape(-1).astype(np.float64)
    return None


def fold_channel_affine(g: Graph) -> Graph:
    """Conv -> Mul/Add/Sub by a per-channel (or scalar) constant folds into the Conv's weight and bias;
    the same for BatchNormalization's scale and bias (DenseNet, Inception-v2 write BN as BN -> Mul -> Add)."""
    g = g.copy()
    changed = True
    while changed:  # a pass folds every node it can (chains too: the maps follow each fold)
        changed = False
        users, producers = g.consumers(), g.producers()
        removed: set[int] = set()  # ids of folded nodes (Node is not hashable)
        for n in g.nodes:
            if n.op not in ("Mul", "Add", "Sub") or len(n.inputs) != 2:
                continue
            for xi in (0, 1):
                if n.op == "Sub" and xi == 1:
                    continue
                src = producers.get(n.inputs[xi])
                const = g.constants.get(n.inputs[1 - xi])
                if src is None or const is None or _single_consumer(g, src.outputs[0], users) is not n:
                    continue
                if src.op == "Conv":
                    wb = _conv_params(g, src)
                    if wb is None:
                        continue
                    w, b = wb
                    rank = w.ndim
                    c = _per_channel(const, w.shape[0], rank)
                    if c is None or const.ndim > rank:
                        continue
                    if n.op == "Mul":
                        w, b = w * c.reshape((-1,) + (1,) * (w.ndim - 1)), b * c
                    else:
                        b = b + c if n.op == "Add" else b - c
                    _set_conv_params(g, src, w, b)
                elif src.op == "BatchNormalization" and len([o for o in src.outputs if o]) == 1 \
                        and not src.attrs.get("_activation") and src.inputs[1] in g.constants \
                        and src.inputs[2] in g.constants:
                    scale = g.constants[src.inputs[1]].astype(np.float64)
                    bias = g.constants[src.inputs[2]].astype(np.float64)
                    rank = len(g.shapes.get(src.outputs[0]) or ()) or 4
                    c = _per_channel(const, scale.size, rank)
                    if c is None or const.ndim > rank:
                        continue
                    if n.op == "Mul":
                        scale, bias = scale * c, bias * c
                    else:
                        bias = bias + c if n.op == "Add" else bias - c
                    sn, bn_ = f"{src.outputs[0]}::scale", f"{src.outputs[0]}::bias"
                    g.constants[sn], g.constants[bn_] = scale.astype(np.float32), bias.astype(np.float32)
                    src.inputs = [src.inputs[0], sn, bn_] + src.inputs[3:]
                else:
                    continue
                old_out = src.outputs[0]
                src.outputs = [n.outputs[0]] + src.outputs[1:]
                producers.pop(old_out, None)
                producers[n.outputs[0]] = src
                users.pop(old_out, None)  # n was its only reader
                removed.add(id(n))
                changed = True
                break
        g.nodes = [m for m in g.nodes if id(m) not in removed]
    return g


# -- epilogue fusion ----------------------------------------------------------------------------
_FUSES_ACTIVATION = ("Conv", "Gemm", "MatMul", "BatchNormalization")


def fuse_residual(g: Graph) -> Graph:
    """Add/Sum(conv(x), r) -> Conv with residual input r, added in the GEMM epilogue (ResNet shortcuts).
    The Conv must be the sum's only reader and r must be ready before the Conv runs."""
    g = g.copy()
    order = {id(n): i for i, n in enumerate(g.nodes)}
    users, producers = g.consumers(), g.producers()
    drop = set()
    for n in g.nodes:
        if n.op not in ("Add", "Sum") or len(n.inputs) != 2 or any(i in g.constants for i in n.inputs):
            continue
        for xi in (1, 0):  # the later conv of two, so the other operand exists when it runs
            conv = producers.get(n.inputs[xi])
            other = n.inputs[1 - xi]
            if conv is None or conv.op != "Conv" or conv.attrs.get("_activation") or len(conv.inputs) > 3 \
                    or _single_consumer(g, conv.outputs[0], users) is not n or id(conv) in drop:
                continue
            p = producers.get(other)
            if p is not None and order[id(p)] >= order[id(conv)]:
                continue
            s1, s2 = g.shapes.get(conv.outputs[0]), g.shapes.get(other)
            if s1 is not None and s2 is not None and (len(s1) != len(s2) or any(
                    isinstance(a, int) and isinstance(b, int) and a != b for a, b in zip(s1, s2))):
                continue  # broadcasting add: not a residual (the Conv also checks at run time)
            conv.inputs = (conv.inputs + ["", ""])[:3] + [other]
            conv.outputs = [n.outputs[0]]
            drop.add(id(n))
            break
    g.nodes = [m for m in g.nodes if id(m) not in drop]
    return g


def _activation_of(g: Graph, n: Node):
    if n.op == "Relu":
        return "relu"
    if n.op == "LeakyRelu":
        return ("leaky_relu", float(n.attrs.get("alpha", 0.01)))
    if n.op == "HardSwish":
        return "hard_swish"
    if n.op == "Sigmoid":
        return "sigmoid"
    if n.op == "Tanh":
        return "tanh"
    if n.op == "Elu":
        return ("elu", float(n.attrs.get("alpha", 1.0)))
    if n.op == "HardSigmoid":
        return ("hard_sigmoid", float(n.attrs.get("alpha", 0.2)), float(n.attrs.get("beta", 0.5)))
    if n.op == "Clip":
        if g.opset < 11:
            lo, hi = n.attrs.get("min", -np.inf), n.attrs.get("max", np.inf)
        else:
            ins = n.inputs + ["", ""]
            if any(i and i not in g.constants for i in ins[1:3]):
                return None
            lo = float(g.constants[ins[1]]) if ins[1] else -np.inf
            hi = float(g.constants[ins[2]]) if ins[2] else np.inf
        return ("clip", float(lo), float(hi)) if lo <= hi else None
    return None


def fuse_activation(g: Graph) -> Graph:
    """Conv/Gemm/MatMul/BatchNorm followed by Relu, Clip, LeakyRelu, HardSwish, Sigmoid, Tanh, Elu,
    HardSigmoid, or by Sigmoid and Mul (x * sigmoid(x) = SiLU), applies it in the kernel's epilogue."""
    g = g.copy()
    users = g.consumers()
    drop = set()
    for n in g.nodes:
        if n.op not in _FUSES_ACTIVATION or n.attrs.get("_activation") or len([o for o in n.outputs if o]) != 1:
            continue
        if n.op in ("Gemm", "MatMul") and n.inputs[0] in g.constants:
            continue
        y = n.outputs[0]
        if y in g.output_names():
            continue
        readers = users.get(y, [])
        if len(readers) == 1 and id(readers[0]) not in drop:
            act = _activation_of(g, readers[0])
            if act is not None:
                n.attrs["_activation"] = act
                n.outputs = [readers[0].outputs[0]]
                drop.add(id(readers[0]))
            continue
        if len(readers) == 2 and n.op != "BatchNormalization":  # SiLU: Mul(y, Sigmoid(y))
            sig = next((r for r in readers if r.op == "Sigmoid"), None)
            mul = next((r for r in readers if r.op == "Mul"), None)
            if sig is None or mul is None or sorted(mul.inputs) != sorted([y, sig.outputs[0]]) \
                    or _single_consumer(g, sig.outputs[0], users) is not mul:
                continue
            n.attrs["_activation"] = "silu"
            n.outputs = [mul.outputs[0]]
            drop.update((id(sig), id(mul)))
    g.nodes = [m for m in g.nodes if id(m) not in drop]
    return g


def fuse_dense(g: Graph) -> Graph:
    """MatMul(x, W) + b and Gemm(x, W) + b (b constant, one value per output column) become one dense
    layer whose bias is added in the GEMM epilogue."""
    g = g.copy()
    users, producers = g.consumers(), g.producers()
    drop = set()
    for n in g.nodes:
        if n.op != "Add" or len(n.inputs) != 2:
            continue
        for xi in (0, 1):
            mm = producers.get(n.inputs[xi])
            bias = g.constants.get(n.inputs[1 - xi])
            if mm is None or bias is None or mm.attrs.get("_activation") or \
                    _single_consumer(g, mm.outputs[0], users) is not n or bias.dtype != np.float32:
                continue
            w = g.constants.get(mm.inputs[1]) if len(mm.inputs) > 1 else None
            if w is None or w.ndim != 2:
                continue
            cols = w.shape[0] if mm.op == "Gemm" and mm.attrs.get("transB", 0) else w.shape[1]
            if bias.size != cols or not (bias.ndim == 1 or (bias.ndim == 2 and bias.shape[0] == 1)):
                continue
            if mm.op == "MatMul" and len(mm.inputs) == 2:
                mm.inputs = mm.inputs + [n.inputs[1 - xi]]
            elif mm.op == "Gemm" and (len(mm.inputs) < 3 or not mm.inputs[2]):
                name = f"{mm.outputs[0]}::bias"
                g.constants[name] = bias.reshape(-1)
                mm.attrs["beta"] = 1.0  # C was absent, so beta scaled nothing
                mm.inputs = mm.inputs[:2] + [name]
            else:
                continue
            if mm.op == "MatMul":
                g.constants[n.inputs[1 - xi]] = bias.reshape(-1)
            mm.outputs = [n.outputs[0]]
            drop.add(id(n))
            break
    g.nodes = [m for m in g.nodes if id(m) not in drop]
    return g


# -- channel-blocked layout ----------------------------------------------------------------------
_BLOCK = 16  # channels per block (csrc/conv/convc-kernels.h)


def _blockable_conv(g: Graph, n: Node, users: dict) -> bool:
    """A 2-D Conv the blocked direct kernel runs: constant weights, input channels a multiple of 16
    or fewer than 16 (_nchw_input_conv), output channels a multiple of 16 or, for a classifier's
    head read only by global pooling, any (_padded_output); grouped (AlexNet's): whole blocks of
    input and output channels per group."""
    w = g.constants.get(n.inputs[1]) if n.op == "Conv" and len(n.inputs) > 1 else None
    if w is None or w.ndim != 4 or (len(n.inputs) > 2 and n.inputs[2] and n.inputs[2] not in g.constants):
        return False
    group = int(n.attrs.get("group", 1))
    if group != 1:
        return group > 1 and w.shape[0] % group == 0 and w.shape[1] % _BLOCK == 0 \
            and (w.shape[0] // group) % _BLOCK == 0
    if w.shape[0] % _BLOCK and not _padded_output(g, n, users):
        return False
    return w.shape[1] % _BLOCK == 0 or _nchw_input_conv(g, n)


def _padded_output(g: Graph, n: Node, users: dict) -> bool:
    """A Conv whose output channels fill no whole block (SqueezeNet's 1000 classes) writes its
    last block's padding lanes too; only global pooling, told the real count, may read it."""
    readers = users.get(n.outputs[0], [])
    residual = len(n.inputs) > 3 and n.inputs[3]  # would need a blocked copy of K channels
    return bool(readers) and not residual and n.outputs[0] not in g.output_names() \
        and all(u.op in ("GlobalAveragePool", "GlobalMaxPool") for u in readers)


def _nchw_input_conv(g: Graph, n: Node) -> bool:
    """A first layer (an image's 3 channels): fewer than 16 input channels, read as NCHW by a
    tile that takes one channel a block and writes blocked output (onnxruntime's NCHW -> NCHWc
    kernel). Strides above 4 have no tiles of several positions (kConvcMaxStride), so those stay
    NCHW; AlexNet's 11x11/4 runs blocked."""
    w = g.constants[n.inputs[1]]
    return w.shape[1] < _BLOCK and all(int(s) <= 4 for s in n.attrs.get("strides", [1, 1]))


# A graph runs blocked only with at most one copy between layouts per this many blocked nodes:
# each copy moves a whole tensor through memory, which a blocked layer's gain (0-25% of a 1x1
# layer) repays only when the layers around it are blocked too.
COPIES_PER_BLOCKED = 4


def _blockable_batch_norm(g: Graph, n: Node) -> bool:
    """An inference BatchNormalization (after fold_batch_norm: one not after a Conv) whose constant
    parameters cover whole channel blocks: on a blocked input it runs lane-wise (_ops_nn)."""
    if n.op != "BatchNormalization" or len([o for o in n.outputs if o]) != 1 or n.attrs.get("training_mode", 0):
        return False
    params = [g.constants.get(v) for v in n.inputs[1:5]]
    return len(params) == 4 and all(p is not None and p.ndim == 1 for p in params) \
        and params[0].shape[0] % _BLOCK == 0 and all(p.shape == params[0].shape for p in params)


def block_layout(g: Graph) -> Graph:
    """Runs chains of convolutions on channel-blocked tensors (N, C/16, H, W, 16), as onnxruntime's
    NCHWc does: such a Conv reads its input and writes its output without packing either
    (csrc/conv/conv-nchwc.cc). Every blockable Conv (_blockable_conv) takes blocked input (a first
    layer of fewer than 16 channels: NCHW) and residual and gives a blocked output; MaxPool,
    AveragePool, channel Concat and global pooling stay blocked when all their inputs are (global
    pooling of a padded head is told its real channel count); any other consumer of a blocked value gets an NCHW copy
    (_FromBlocked, made once per value), a blocked consumer of an NCHW value a blocked copy
    (_ToBlocked); so do an inference BatchNormalization of whole channel blocks (DenseNet's
    pre-activation BN between Concat and Conv) and LRN (GoogLeNet's, AlexNet's), whose channel
    window reaches into the neighbouring blocks. Graph outputs are NCHW. A Conv with no blocked neighbour stays NCHW (two copies
    would cost more than it gains)."""
    original, g = g, g.copy()
    users = g.consumers()
    producers = g.producers()
    convs = {id(n) for n in g.nodes if _blockable_conv(g, n, users)}

    def blocked_consumer(n: Node) -> bool:
        return id(n) in convs or n.op in ("MaxPool", "AveragePool", "Concat", "GlobalAveragePool", "GlobalMaxPool",
                                          "LRN") or _blockable_batch_norm(g, n)

    # a lone Conv: its input not from a blockable Conv and no consumer that could stay blocked
    for n in g.nodes:
        if id(n) in convs:
            src = producers.get(n.inputs[0])
            if not (src is not None and id(src) in convs) and not any(blocked_consumer(u) for u in users.get(n.outputs[0], [])):
                convs.discard(id(n))
    blocked: set[str] = set()
    padded: dict[str, int] = {}  # blocked values whose last block holds padding lanes -> channels
    copies: dict[tuple[str, bool], str] = {}
    nodes: list[Node] = []

    def as_layout(v: str, want_blocked: bool) -> str:
        if not v or v in g.constants or (v in blocked) == want_blocked:
            return v
        key = (v, want_blocked)
        if key not in copies:
            copies[key] = f"{v}/{'blocked' if want_blocked else 'nchw'}"
            nodes.append(Node("_ToBlocked" if want_blocked else "_FromBlocked", [v], [copies[key]],
                              name=f"{v} to {'blocked' if want_blocked else 'NCHW'}"))
            if want_blocked:
                blocked.add(copies[key])
        return copies[key]

    for n in g.nodes:
        data = [v for v in n.inputs if v and v not in g.constants]
        pool_ok = n.op in ("MaxPool", "AveragePool") and len([o for o in n.outputs if o]) == 1 \
            and len(n.attrs.get("kernel_shape", ())) == 2 \
            and (n.op == "MaxPool" or all(d == 1 for d in n.attrs.get("dilations", [1, 1])))
        concat_ok = n.op == "Concat" and int(n.attrs.get("axis", 1)) in (1, -3)
        bn_ok = _blockable_batch_norm(g, n) and data[:1] == [n.inputs[0]] and n.inputs[0] not in padded
        lrn_ok = n.op == "LRN" and int(n.attrs.get("size", 0)) >= 1 and float(n.attrs.get("bias", 1.0)) > 0 \
            and len(data) == 1 and data[0] not in padded
        if id(n) in convs:
            nchw_input = _nchw_input_conv(g, n)
            n.inputs = [as_layout(v, not (k == 0 and nchw_input)) if k in (0, 3) else v for k, v in enumerate(n.inputs)]
            n.attrs["_blocked"] = True
            if nchw_input:
                n.attrs["_nchw_input"] = True
            blocked.add(n.outputs[0])
            k = g.constants[n.inputs[1]].shape[0]
            if k % _BLOCK:
                padded[n.outputs[0]] = k
        elif (pool_ok or concat_ok or bn_ok or lrn_ok or n.op in ("GlobalAveragePool", "GlobalMaxPool")) and data \
                and all(v in blocked for v in data):
            n.attrs["_blocked"] = True
            if n.op not in ("GlobalAveragePool", "GlobalMaxPool"):  # these write NCHW (N, C, 1, 1)
                blocked.add(n.outputs[0])
            elif data[0] in padded:
                n.attrs["_channels"] = padded[data[0]]
        else:
            n.inputs = [as_layout(v, False) for v in n.inputs]
        nodes.append(n)
    outputs = g.output_names()
    for n in list(nodes):  # a blocked graph output o: its producer writes o/blocked, copied to o
        for k, o in enumerate(n.outputs):
            if o in outputs and o in blocked:
                blocked.discard(o)
                inner = f"{o}/blocked"
                n.outputs[k] = inner
                for m in nodes:
                    m.inputs = [inner if v == o else v for v in m.inputs]
                copy = copies.get((o, False))
                if copy is None:
                    nodes.append(Node("_FromBlocked", [inner], [o], name=f"{o} to NCHW"))
                else:  # the NCHW copy made for a consumer is the output
                    for m in nodes:
                        m.inputs = [o if v == copy else v for v in m.inputs]
                        m.outputs = [o if v == copy else v for v in m.outputs]
    n_copies = sum(1 for n in nodes if n.op in ("_ToBlocked", "_FromBlocked"))
    n_blocked = sum(1 for n in nodes if n.attrs.get("_blocked"))
    if n_copies * COPIES_PER_BLOCKED > n_blocked:
        return original  # the copies between the layouts would take what the blocked nodes gain
    g.nodes = nodes
    return g


PASSES = (fold_constants, remove_passthrough, fold_batch_norm, fold_channel_affine, fuse_dense, fuse_residual,
          fuse_activation, remove_dead, block_layout)


def optimize(g: Graph) -> Graph:
    for p in PASSES:
        g = p(g)
    return g

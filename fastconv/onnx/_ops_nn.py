"""Compute operators: Conv/ConvTranspose (fastconv.ConvPlan), Gemm/MatMul (fastconv.gemm), pooling,
normalization, activations and softmax (fastconv's layer functions, see _layers.py).

Internal attributes set by the optimizer start with "_": `_activation` (a fastconv activation spec
fused into the epilogue); a fused Conv has a 4th input, the residual added before the activation, and
a fused MatMul a 3rd input, the bias."""
from __future__ import annotations


import numpy as np

import fastconv
from fastconv.pooling import pool2d_output_shape

from .. import _C, _checks, _memory
from . import _layers, _numpy_layers
from ._registry import OpError, op


def _layer(name, *xs):
    return _layers.get(name) if _layers.is_f32(*xs) else getattr(_numpy_layers, name)


def _fits(out, shape):
    """The planned output buffer if it has exactly this shape (else None: the kernel allocates)."""
    return out if out is not None and out.shape == tuple(shape) and out.dtype == np.float32 else None


def _takes_out(run):
    run.accepts_out = True  # the memory planner may hand it a reused buffer as out=
    return run


def _spatial_pads(node, x_spatial, kernel, strides, dilations):
    """Explicit (begin..., end...) pads for this input size, honouring auto_pad."""
    auto = node.attrs.get("auto_pad", "NOTSET") or "NOTSET"
    nd = len(kernel)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i in range(nd):
            out = -(-x_spatial[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - x_spatial[i])
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
        return begin + end
    if auto == "VALID":
        return [0] * (2 * nd)
    if auto != "NOTSET":
        raise OpError(f"{node.label()}: unknown auto_pad {auto!r}")
    return list(node.attrs.get("pads", [0] * (2 * nd)))


def _as2d(seq, nd, fill):
    """1-D geometry as 2-D with a unit leading axis (H = 1)."""
    return [fill] + list(seq) if nd == 1 else list(seq)


def _pads2d(pads, nd):
    if nd == 1:
        return (0, pads[0], 0, pads[1])
    return (pads[0], pads[1], pads[2], pads[3])


@op("Conv")
def conv(node, ctx):
    w_const, b_const = ctx.const(node, 1), ctx.const(node, 2)
    act = node.attrs.get("_activation")
    group = int(node.attrs.get("group", 1))
    plans: dict = {}

    def geometry(xshape, w):
        nd = w.ndim - 2
        if nd not in (1, 2):
            raise OpError(f"{node.label()}: {nd}-D convolution is not supported (1-D and 2-D are)")
        if len(xshape) != w.ndim:
            raise OpError(f"{node.label()}: input has shape {tuple(xshape)} but the weight {w.shape} needs a "
                          f"{w.ndim}-D input")
        kernel = list(node.attrs.get("kernel_shape", w.shape[2:]))
        strides = list(node.attrs.get("strides", [1] * nd))
        dil = list(node.attrs.get("dilations", [1] * nd))
        pads = _spatial_pads(node, xshape[2:], kernel, strides, dil)
        return nd, tuple(_as2d(strides, nd, 1)), tuple(_as2d(dil, nd, 1)), _pads2d(pads, nd)

    def plan_for(x, w, b, xshape=None):
        nd, strides, dil, pads = geometry(x.shape if xshape is None else xshape, w)
        key = (strides, dil, pads)
        if w_const is not None and (b_const is not None or not ctx.has(node, 2)) and key in plans:
            return nd, plans[key]
        w4 = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2]) if nd == 1 else w
        p = fastconv.ConvPlan(w4, b, strides, pads, dil, group, act, algo=ctx.algo)
        if w_const is not None:
            plans[key] = p
        return nd, p

    # Per input shape, for constant weights and bias: (nd, plan, output shape 4-D, output shape).
    shapes: dict = {}
    constant = w_const is not None and (b_const is not None or not ctx.has(node, 2))

    def run(x, w, b=None, residual=None, out=None):
        dtype = x.dtype
        known = shapes.get(x.shape) if constant else None
        if known is None:
            nd, p = plan_for(x, w, b)
            if x.shape[1] != w.shape[1] * group:
                raise OpError(f"{node.label()}: input has {x.shape[1]} channels (shape {x.shape}), the weight "
                              f"{w.shape} with group={group} expects {w.shape[1] * group}")
            shape4 = p.output_shape(x.shape[:2] + (1,) + x.shape[2:] if nd == 1 else x.shape)
            known = (nd, p, shape4, shape4 if nd == 2 else shape4[:2] + shape4[3:])
            if constant:
                shapes[x.shape] = known
        nd, p, shape4, shape = known
        x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2]) if nd == 1 else x
        if residual is not None and tuple(residual.shape) != tuple(shape):
            # the optimizer fused an Add that broadcasts: conv without the epilogue, then numpy
            y = conv_plain(x4, w, b).reshape(shape) + residual
            return _numpy_layers.activation(y.astype(np.float32), *_act_args(act)).astype(
                dtype if np.issubdtype(dtype, np.floating) else np.float32)
        else:
            r4 = None if residual is None else np.ascontiguousarray(residual, np.float32).reshape(shape4)
            if out is not None and out.shape != shape4:
                # the planned buffer: a flat arena slice of the output's size, or (shapes that
                # depend on input values) one that does not fit
                out = out.reshape(shape4) if out.size == int(np.prod(shape4)) else None
            y = p(x4, residual=r4, out=out)
        if nd == 1:
            y = y.reshape(y.shape[0], y.shape[1], y.shape[3])
        return y if dtype == np.float32 or not np.issubdtype(dtype, np.floating) else y.astype(dtype)

    def record(program, args, y, dyn):
        """Adds this call (args, returning y) to a session's recorded program: 2-D, float32,
        constant weights, the output written in place. False when it must stay in Python."""
        x, residual = args[0], (args[3] if len(args) > 3 else None)
        known = shapes.get(x.shape) if constant else None
        if known is None or known[0] != 2 or not _layers.plain_f32(x) or y is None or y.dtype != np.float32 \
                or (residual is not None and (not _layers.plain_f32(residual) or residual.shape != known[2])):
            return False
        p = known[1]
        native = p._tuned_plans.get(x.shape) if p.autotune else p._plan
        if native is None:
            return False
        program.add_conv(native, x, dyn(x), y, residual, -1 if residual is None else dyn(residual))
        return True

    run.record = record

    def conv_plain(x4, w, b):
        _, strides, dil, pads = geometry(x4.shape if nd_of(w) == 2 else x4[:, :, 0].shape, w)
        w4 = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2]) if nd_of(w) == 1 else w
        return fastconv.ConvPlan(w4, b, strides, pads, dil, group, None, algo=ctx.algo)(x4)

    run.accepts_out = True
    run.writes_strided_out = True  # out may be a channel slice of a larger buffer (a Concat's part)
    run.plans = plans  # for inspection: the ConvPlans built so far, by geometry
    if node.attrs.get("_blocked"):
        return _blocked_conv(node, plan_for, plans)
    return run


def _blocked_conv(node, plan_for, plans):
    """A Conv the layout pass (_optimize.block_layout) gave a channel-blocked output and residual:
    x (N, C/16, H, W, 16) -> (N, K/16, OH, OW, 16); constant weights; groups with whole blocks per
    group. A first layer (attribute _nchw_input: its few channels fill no block) reads x as NCHW."""
    shapes: dict = {}  # input shape -> (native plan, blocked output shape)
    nchw_input = bool(node.attrs.get("_nchw_input"))

    def run(x, w, b=None, residual=None, out=None):
        known = shapes.get(x.shape)
        if known is None:
            if (x.ndim != 4 if nchw_input else (x.ndim != 5 or x.shape[4] != _BLOCK)) or x.dtype != np.float32:
                want = "an NCHW" if nchw_input else "a blocked"
                raise OpError(f"{node.label()}: expected {want} float32 input "
                              f"{'(N, C, H, W)' if nchw_input else '(N, C/16, H, W, 16)'}, got {x.dtype} {x.shape}")
            xshape = x.shape if nchw_input else (x.shape[0], x.shape[1] * _BLOCK) + x.shape[2:4]
            n, c, h, wd = xshape
            _, p = plan_for(x, w, b, xshape=xshape)
            group = int(node.attrs.get("group", 1))
            if c != w.shape[1] * group:
                raise OpError(f"{node.label()}: input has {c} channels, the weight {w.shape} with group={group} "
                              f"expects {w.shape[1] * group}")
            _, k, oh, ow = p.output_shape(xshape)
            known = shapes[x.shape] = (p._plan, (n, -(-k // _BLOCK), oh, ow, _BLOCK))  # padded to whole blocks
        native, shape = known
        if out is None or out.shape != shape:
            out = out.reshape(shape) if out is not None and out.size == int(np.prod(shape)) else _memory.empty(shape)
        r = None if residual is None else np.ascontiguousarray(residual, np.float32)
        native.run_blocked(np.ascontiguousarray(x), out, r)
        return out

    def record(program, args, y, dyn):
        x, residual = args[0], (args[3] if len(args) > 3 else None)
        known = shapes.get(x.shape)
        if known is None or not _layers.plain_f32(x) or y is None or y.shape != known[1] \
                or (residual is not None and not _layers.plain_f32(residual)):
            return False
        program.add_conv_blocked(known[0], x, dyn(x), y, residual, -1 if residual is None else dyn(residual))
        return True

    run.record = record
    run.accepts_out = True
    run.writes_strided_out = True
    # out may be the residual's own buffer: BlockedConv and BlockedWinograd read each residual
    # element in the epilogue that then writes the output element in its place (session.py)
    run.residual_in_place = True
    run.plans = plans
    return run


_BLOCK = 16  # channels per block of a blocked tensor (csrc/conv/convc-kernels.h)


@op("_ToBlocked", "_FromBlocked")
def reorder(node, ctx):
    """The layout pass's copies between NCHW (N, C, H, W) and blocked (N, C/16, H, W, 16)."""
    to_blocked = node.op == "_ToBlocked"

    def run(x, out=None):
        x = np.ascontiguousarray(x, np.float32)
        if to_blocked:
            n, c, h, w = x.shape
            shape = (n, c // _BLOCK, h, w, _BLOCK)
        else:
            n, cb, h, w, _ = x.shape
            shape = (n, cb * _BLOCK, h, w)
        out = _fits(out, shape)
        out = _memory.empty(shape) if out is None else out
        (_C.to_blocked if to_blocked else _C.from_blocked)(x, out)
        return out

    def record(program, args, y, dyn):
        if not _layers.plain_f32(args[0]) or y is None or y.dtype != np.float32:
            return False
        program.add_reorder(args[0], dyn(args[0]), y, to_blocked)
        return True

    run.record = record
    run.writes_strided_out = True
    return _takes_out(run)


def nd_of(w):
    return w.ndim - 2


def _act_args(act):
    if act is None:
        return (None,)
    return (act,) if isinstance(act, str) else tuple(act)


@op("ConvTranspose")
def conv_transpose(node, ctx):
    """2-D (and 1-D) transposed convolution as one GEMM (W^T x X on fastconv.gemm) and a col2im scatter."""
    group = int(node.attrs.get("group", 1))

    def run(x, w, b=None):
        nd = w.ndim - 2
        if nd not in (1, 2):
            raise OpError(f"{node.label()}: {nd}-D ConvTranspose is not supported (1-D and 2-D are)")
        dtype = x.dtype
        if nd == 1:
            x, w = x[:, :, None, :], w[:, :, None, :]
        n, c, h, wd = x.shape
        cw, kg, kh, kw = w.shape
        if c != cw:
            raise OpError(f"{node.label()}: input has {c} channels (shape {x.shape}), weight {w.shape} expects {cw}")
        s = _as2d(node.attrs.get("strides", [1] * nd), nd, 1)
        d = _as2d(node.attrs.get("dilations", [1] * nd), nd, 1)
        opad = _as2d(node.attrs.get("output_padding", [0] * nd), nd, 0)
        ek = [d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1]
        full = [s[0] * (h - 1) + opad[0] + ek[0], s[1] * (wd - 1) + opad[1] + ek[1]]
        auto = node.attrs.get("auto_pad", "NOTSET") or "NOTSET"
        if "output_shape" in node.attrs:
            target = _as2d(node.attrs["output_shape"][-nd:], nd, 1)
            auto = "SAME_UPPER" if auto in ("NOTSET", "VALID") else auto
        elif auto in ("SAME_UPPER", "SAME_LOWER"):
            target = [h * s[0], wd * s[1]]
        else:
            target = None
        if target is not None:
            # total padding may be negative (the output is larger than the full result: zeros at the
            # end); onnxruntime and the ONNX reference truncate the half toward zero
            tot = [full[i] - target[i] for i in range(2)]
            first = [int(t / 2) if auto == "SAME_UPPER" else t - int(t / 2) for t in tot]
            pads = [first[0], first[1], tot[0] - first[0], tot[1] - first[1]]
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        else:
            pads = list(_pads2d(node.attrs.get("pads", [0] * (2 * nd)), nd))
        k = kg * group
        cg = c // group
        cols = np.empty((n, group, kg * kh * kw, h * wd), dtype=np.float32)
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        w32 = np.ascontiguousarray(w, dtype=np.float32)
        for g in range(group):
            wg = w32[g * cg:(g + 1) * cg].reshape(cg, kg * kh * kw)
            for i in range(n):
                fastconv.gemm(wg.T, x32[i, g * cg:(g + 1) * cg].reshape(cg, h * wd), out=cols[i, g])
        cols = cols.reshape(n, k, kh, kw, h, wd)
        y = np.zeros((n, k, full[0], full[1]), dtype=np.float32)
        for r in range(kh):
            for q in range(kw):
                y[:, :, r * d[0]:r * d[0] + s[0] * (h - 1) + 1:s[0],
                  q * d[1]:q * d[1] + s[1] * (wd - 1) + 1:s[1]] += cols[:, :, r, q]
        out_hw = (full[0] - pads[0] - pads[2], full[1] - pads[1] - pads[3])
        if min(pads) < 0:
            grown = np.zeros((n, k, full[0] + max(0, -pads[0]) + max(0, -pads[2]),
                              full[1] + max(0, -pads[1]) + max(0, -pads[3])), np.float32)
            grown[:, :, max(0, -pads[0]):max(0, -pads[0]) + full[0], max(0, -pads[1]):max(0, -pads[1]) + full[1]] = y
            y, pads = grown, [max(0, p) for p in pads]
        y = y[:, :, pads[0]:pads[0] + out_hw[0], pads[1]:pads[1] + out_hw[1]]
        if b is not None:
            y = y + b.astype(np.float32).reshape(1, -1, 1, 1)
        if nd == 1:
            y = y[:, :, 0, :]
        return np.ascontiguousarray(y, dtype=dtype if np.issubdtype(dtype, np.floating) else np.float32)

    return run


def _gemm_or_numpy(a, b, bias=None, act=None, residual=None, out=None):
    if _layers.is_f32(a, b) and a.ndim == 2 and b.ndim == 2:
        if out is not None and out.shape != (a.shape[0], b.shape[1]):
            out = None  # shapes that depend on input values: the planned buffer does not fit
        return fastconv.gemm(a, b, bias, act, residual, out=out)
    y = a @ b
    if bias is not None:
        y = y + bias
    if residual is not None:
        y = y + residual
    return y if act is None else _numpy_layers.activation(y, *((act,) if isinstance(act, str) else act))


class _Dense:
    """A dense layer whose weights are packed once (the engine's DensePlan): y = act(x @ w.T + b)."""

    def __init__(self, w_out_in, bias, act):
        from fastconv import _C
        from fastconv._checks import activation as norm_act

        self.units = w_out_in.shape[0]
        b = None if bias is None else np.ascontiguousarray(bias, np.float32).reshape(-1)
        self.plan = _C.DensePlan(np.ascontiguousarray(w_out_in, np.float32), b, *norm_act(act))

    def __call__(self, x, out=None):
        y = _fits(out, (x.shape[0], self.units))
        y = _memory.empty((x.shape[0], self.units)) if y is None else y
        self.plan.run(np.ascontiguousarray(x, np.float32), y)
        return y

    def record(self, program, x, y, dyn):
        """Adds this call to a session's recorded program (see the Conv op's record)."""
        if x.ndim != 2 or not _layers.plain_f32(x) or y is None or not _layers.plain_f32(y):
            return False
        program.add_dense(self.plan, x, dyn(x), y)
        return True


def _const_bias(c, n):
    """A constant Gemm C / MatMul bias as an (n,) vector, or None when it is not one value per column."""
    if c is None:
        return None
    if c.size == n and (c.ndim == 1 or (c.ndim == 2 and c.shape[0] == 1)) and c.dtype == np.float32:
        return c.reshape(n)
    return None


@op("Gemm")
def gemm(node, ctx):
    alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))
    ta, tb = int(node.attrs.get("transA", 0)), int(node.attrs.get("transB", 0))
    act = node.attrs.get("_activation")
    b_const = ctx.const(node, 1)
    c_const = ctx.const(node, 2)
    dense = None
    if b_const is not None and b_const.dtype == np.float32 and b_const.ndim == 2 and not ta:
        w = b_const if tb else b_const.T  # (out, in)
        bias = _const_bias(c_const, w.shape[0]) if ctx.has(node, 2) else None
        if (not ctx.has(node, 2)) or (bias is not None) or beta == 0.0:
            dense = _Dense(w * np.float32(alpha) if alpha != 1.0 else w,
                           None if bias is None or beta == 0.0 else bias * np.float32(beta), act)
    if b_const is not None:  # pre-scale and keep the (possibly transposed) view: the packer reads strides
        b_const = (b_const.T if tb else b_const) * np.asarray(alpha, b_const.dtype) if alpha != 1.0 else \
            (b_const.T if tb else b_const)

    def run(a, b, c=None, out=None):
        if dense is not None and a.dtype == np.float32 and a.ndim == 2:
            if a.shape[1] != b.shape[1 if tb else 0]:
                raise OpError(f"{node.label()}: A {a.shape} and B {b.shape} (transB={tb}) do not match")
            return dense(a, out=out)
        a2 = a.T if ta else a
        if a2.ndim != 2 or b.ndim != 2:
            raise OpError(f"{node.label()}: Gemm needs 2-D inputs, got A {a.shape} and B {b.shape}")
        bb = b_const if b_const is not None else ((b.T if tb else b) * alpha if alpha != 1.0 else (b.T if tb else b))
        m, n = a2.shape[0], bb.shape[1]
        if a2.shape[1] != bb.shape[0]:
            raise OpError(f"{node.label()}: A {a.shape} (transA={ta}) and B {b.shape} (transB={tb}) do not match")
        bias = residual = None
        if c is not None and beta != 0.0:
            c = c * np.asarray(beta, c.dtype) if beta != 1.0 else c
            if c.ndim == 1 and c.shape[0] == n and n > 1:
                bias = c
            elif c.ndim == 2 and c.shape == (1, n) and n > 1:
                bias = c.reshape(n)
            else:
                residual = np.ascontiguousarray(np.broadcast_to(c, (m, n)))
        y = _gemm_or_numpy(a2, bb, bias, act, residual, out)
        return y.astype(a.dtype) if y.dtype != a.dtype else y

    def record(program, args, y, dyn):
        a = args[0]
        if dense is None or a.dtype != np.float32 or a.ndim != 2 or a.shape[1] != args[1].shape[1 if tb else 0]:
            return False
        return dense.record(program, a, y, dyn)

    run.accepts_out = True
    run.record = record
    return run


@op("MatMul")
def matmul(node, ctx):
    act = node.attrs.get("_activation")
    b_const, bias_const = ctx.const(node, 1), ctx.const(node, 2)
    dense = None
    if b_const is not None and b_const.dtype == np.float32 and b_const.ndim == 2 and \
            (not ctx.has(node, 2) or _const_bias(bias_const, b_const.shape[1]) is not None):
        dense = _Dense(b_const.T, _const_bias(bias_const, b_const.shape[1]), act)

    def run(a, b, bias=None):
        if dense is not None and a.dtype == np.float32 and a.ndim >= 2 and a.shape[-1] == b.shape[0]:
            return dense(a.reshape(-1, a.shape[-1])).reshape(a.shape[:-1] + (b.shape[1],))
        if not _layers.is_f32(a, b) or a.ndim < 2 or b.ndim != 2:
            if _layers.is_f32(a, b) and a.ndim >= 2 and b.ndim >= 2:
                shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
                ab = np.broadcast_to(a, shape + a.shape[-2:]).reshape((-1,) + a.shape[-2:])
                bb = np.broadcast_to(b, shape + b.shape[-2:]).reshape((-1,) + b.shape[-2:])
                y = np.stack([_gemm_or_numpy(ab[i], bb[i], bias, act) for i in range(ab.shape[0])]) \
                    if ab.shape[0] else np.zeros((0, a.shape[-2], b.shape[-1]), np.float32)
                return y.reshape(shape + (a.shape[-2], b.shape[-1]))
            y = np.matmul(a, b)
            if bias is not None:
                y = y + bias
            return y if act is None else _numpy_layers.activation(y, *((act,) if isinstance(act, str) else act))
        lead = a.shape[:-1]
        y = _gemm_or_numpy(a.reshape(-1, a.shape[-1]), b, bias, act)
        return y.reshape(lead + (b.shape[1],))

    return run


def _pool_args(node, x):
    nd = x.ndim - 2
    kernel = list(node.attrs["kernel_shape"])
    if nd not in (1, 2) or len(kernel) != nd:
        raise OpError(f"{node.label()}: {nd}-D pooling of input {x.shape} is not supported (1-D and 2-D are)")
    strides = list(node.attrs.get("strides", [1] * nd))
    dil = list(node.attrs.get("dilations", [1] * nd))
    pads = _spatial_pads(node, x.shape[2:], kernel, strides, dil)
    x4 = x[:, :, None, :] if nd == 1 else x
    return nd, x4, tuple(_as2d(kernel, nd, 1)), tuple(_as2d(strides, nd, 1)), tuple(_as2d(dil, nd, 1)), \
        _pads2d(pads, nd)


class _PoolFastPath:
    """Per input shape, the checked window of a float32 2-D pooling node, so later runs go straight
    to the kernel (the Python-side checks cost ~40 us a call, more than a small pool itself)."""

    def __init__(self, kind, ceil, include):
        self.kind, self.ceil, self.include, self.known = kind, ceil, include, {}

    def run(self, x, out):
        if x.dtype != np.float32 or not x.flags.c_contiguous:
            return None
        hit = self.known.get(x.shape)
        if hit is None:
            return None
        k, s, d, p, shape = hit
        out = _fits(out, shape)
        out = _memory.empty(shape) if out is None else out
        _C.pool2d(x, out, self.kind, k, s, d, p, self.ceil, self.include)
        return out

    def record(self, program, args, y, dyn):
        """Adds this pooling call to a session's recorded program (see the Conv op's record)."""
        x = args[0]
        hit = self.known.get(x.shape) if _layers.plain_f32(x) else None
        if hit is None or y is None or y.dtype != np.float32:
            return False
        k, s, d, p, _ = hit
        program.add_pool(x, dyn(x), y, self.kind, k, s, d, p, self.ceil, self.include)
        return True

    def remember(self, x, k, s, d, p, shape):
        if x.dtype == np.float32 and x.flags.c_contiguous:
            self.known[x.shape] = (k, s, d, p, tuple(shape))


@op("MaxPool")
def max_pool(node, ctx):
    if len(node.outputs) > 1 and node.outputs[1]:
        raise OpError(f"{node.label()}: the Indices output of MaxPool is not supported")
    ceil = bool(node.attrs.get("ceil_mode", 0))
    fast = _PoolFastPath("max", ceil, False)

    def run(x, out=None):
        y = fast.run(x, out)
        if y is not None:
            return y
        nd, x4, k, s, d, p = _pool_args(node, x)
        if nd == 2 and _layers.is_f32(x4):
            shape = pool2d_output_shape(x4.shape, k, s, p, d, ceil)
            y = fastconv.max_pool2d(x4, k, s, p, d, ceil, out=_fits(out, shape))
            fast.remember(x, k, s, d, p, shape)
            return y
        y = _layer("max_pool2d", x4)(x4, k, s, p, d, ceil)
        return y[:, :, 0, :] if nd == 1 else y

    run.writes_strided_out = True  # out may be a channel slice of a larger buffer (a Concat's part)
    run.record = fast.record
    return _takes_out(_blocked_pool(node, "max", ceil, False) if node.attrs.get("_blocked") else run)


@op("AveragePool")
def avg_pool(node, ctx):
    ceil = bool(node.attrs.get("ceil_mode", 0))
    include = bool(node.attrs.get("count_include_pad", 0))
    fast = _PoolFastPath("avg", ceil, include)

    def run(x, out=None):
        y = fast.run(x, out)
        if y is not None:
            return y
        nd, x4, k, s, d, p = _pool_args(node, x)
        if d != (1, 1):  # fastconv.avg_pool2d has no dilation: the numpy formulation runs these
            y = _numpy_layers.avg_pool2d(x4, k, s, p, ceil, include, dilation=d)
        elif nd == 2 and _layers.is_f32(x4):
            shape = pool2d_output_shape(x4.shape, k, s, p, 1, ceil)
            y = fastconv.avg_pool2d(x4, k, s, p, ceil, include, out=_fits(out, shape))
            fast.remember(x, k, s, d, p, shape)
            return y
        else:
            y = _layer("avg_pool2d", x4)(x4, k, s, p, ceil, include)
        return y[:, :, 0, :] if nd == 1 else y

    run.writes_strided_out = True  # out may be a channel slice of a larger buffer (a Concat's part)
    run.record = fast.record
    return _takes_out(_blocked_pool(node, "avg", ceil, include) if node.attrs.get("_blocked") else run)


def _blocked_pool(node, kind, ceil, include):
    """MaxPool/AveragePool on a blocked input (N, C/16, H, W, 16), 2-D windows."""
    known: dict = {}

    def window(x):
        hit = known.get(x.shape)
        if hit is None:
            if x.ndim != 5 or x.dtype != np.float32:
                raise OpError(f"{node.label()}: expected a blocked float32 input, got {x.dtype} {x.shape}")
            n, cb, h, w, _ = x.shape
            k = tuple(_as2d(list(node.attrs["kernel_shape"]), 2, 1))
            s = tuple(_as2d(list(node.attrs.get("strides", [1, 1])), 2, 1))
            d = tuple(_as2d(list(node.attrs.get("dilations", [1, 1])), 2, 1))
            p = _pads2d(_spatial_pads(node, (h, w), list(k), list(s), list(d)), 2)
            _, _, oh, ow = pool2d_output_shape((n, cb, h, w), k, s, p, d, ceil)
            hit = known[x.shape] = (k, s, d, p, (n, cb, oh, ow, _BLOCK))
        return hit

    def run(x, out=None):
        k, s, d, p, shape = window(x)
        out = _fits(out, shape)
        out = _memory.empty(shape) if out is None else out
        _C.pool2d(np.ascontiguousarray(x), out, kind, k, s, d, p, ceil, include)
        return out

    def record(program, args, y, dyn):
        x = args[0]
        if x.shape not in known or not _layers.plain_f32(x) or y is None or y.dtype != np.float32:
            return False
        k, s, d, p, _ = known[x.shape]
        program.add_pool(x, dyn(x), y, kind, k, s, d, p, ceil, include)
        return True

    run.record = record
    run.writes_strided_out = True
    return run


@op("GlobalAveragePool", "GlobalMaxPool")
def global_pool(node, ctx):
    name = "global_avg_pool2d" if node.op == "GlobalAveragePool" else "global_max_pool2d"

    def run(x, out=None):
        if x.ndim == 4:
            if _layers.is_f32(x):
                return _layer(name, x)(x, out=_fits(out, x.shape[:2] + (1, 1)))
            return _layer(name, x)(x)
        return getattr(_numpy_layers, name)(x)

    def record(program, args, y, dyn):
        x = args[0]
        if x.ndim != 4 or not _layers.plain_f32(x) or y is None or y.dtype != np.float32 or not y.flags.c_contiguous:
            return False
        program.add_global_pool(x, dyn(x), y, "avg" if node.op == "GlobalAveragePool" else "max")
        return True

    run.record = record
    if node.attrs.get("_blocked"):
        return _takes_out(_blocked_global_pool("avg" if node.op == "GlobalAveragePool" else "max",
                                               node.attrs.get("_channels")))
    return _takes_out(run)


def _blocked_global_pool(kind, channels=None):
    """Global pooling of a blocked input (N, C/16, H, W, 16) into an NCHW (N, C, 1, 1) output;
    channels: C where the last block holds padding lanes (a 1000-class Conv's output)."""
    def run(x, out=None):
        shape = (x.shape[0], channels or x.shape[1] * _BLOCK, 1, 1)
        out = _fits(out, shape)
        out = _memory.empty(shape) if out is None else out
        _C.global_pool(np.ascontiguousarray(x, np.float32), out, kind, blocked=True)
        return out

    def record(program, args, y, dyn):
        if not _layers.plain_f32(args[0]) or y is None or y.dtype != np.float32 or not y.flags.c_contiguous:
            return False
        program.add_global_pool(args[0], dyn(args[0]), y, kind, blocked=True)
        return True

    run.record = record
    return run


@op("BatchNormalization")
def batch_norm(node, ctx):
    eps = float(node.attrs.get("epsilon", 1e-5))
    if node.attrs.get("training_mode", 0) or len([o for o in node.outputs if o]) > 1:
        raise OpError(f"{node.label()}: training-mode BatchNormalization (extra outputs) is not supported")
    act = node.attrs.get("_activation")
    # Constant parameters (the usual case): the per-channel affine map is computed once here,
    # not on every run (float64 math and checks over C values cost more than a small layer).
    params = [ctx.const(node, i) for i in range(1, 5)]
    affine = None
    if all(p is not None for p in params):
        try:
            affine = fastconv.normalization.batch_norm_affine(*params, eps) + (_checks.activation(act),)
        except (ValueError, TypeError):
            affine = None  # run() reports it with the input shapes

    def run(x, scale, bias, mean, var, out=None):
        if affine is not None and x.ndim == 4 and _layers.is_f32(x) and x.flags.c_contiguous \
                and x.shape[1] == affine[0].shape[0]:
            s, t, act_args = affine
            out = _fits(out, x.shape)
            out = _memory.empty(x.shape) if out is None else out
            _C.channel_affine(x, out, s, t, *act_args)
            return out
        if x.ndim == 4 and _layers.is_f32(x):
            return fastconv.batch_norm(x, scale, bias, mean, var, eps, act, out=_fits(out, x.shape))
        x4 = x if x.ndim == 4 else x.reshape(x.shape[0], x.shape[1], -1, 1)
        y = _layer("batch_norm", x4)(x4, scale, bias, mean, var, eps, act)
        return y.reshape(x.shape)

    def record(program, args, y, dyn):
        x = args[0]
        if affine is None or x.ndim != 4 or not _layers.plain_f32(x) or x.shape[1] != affine[0].shape[0] \
                or y is None or y.dtype != np.float32:
            return False
        s, t, act_args = affine
        program.add_channel_affine(x, dyn(x), y, s, t, *act_args)
        return True

    run.record = record
    if node.attrs.get("_blocked"):   # the layout pass blocks it only with constant parameters
        return _takes_out(_blocked_batch_norm(node, affine))
    return _takes_out(run)


def _blocked_batch_norm(node, affine):
    """BatchNormalization and its fused activation on a blocked input (N, C/16, H, W, 16), channel
    c = block * 16 + lane: the per-channel affine map applied lane-wise (a pre-activation BN over a
    DenseNet Concat stays blocked between its Conv layers)."""
    s, t, act_args = affine

    def run(x, *params, out=None):
        if x.ndim != 5 or x.shape[4] != _BLOCK or x.shape[1] * _BLOCK != s.shape[0] or x.dtype != np.float32:
            raise OpError(f"{node.label()}: expected a blocked float32 input (N, {s.shape[0] // _BLOCK}, H, W, 16), "
                          f"got {x.dtype} {x.shape}")
        out = _fits(out, x.shape)
        out = _memory.empty(x.shape) if out is None else out
        _C.channel_affine(np.ascontiguousarray(x), out, s, t, *act_args, blocked=True)
        return out

    def record(program, args, y, dyn):
        x = args[0]
        if x.ndim != 5 or not _layers.plain_f32(x) or y is None or y.shape != x.shape or y.dtype != np.float32:
            return False
        program.add_channel_affine(x, dyn(x), y, s, t, *act_args, blocked=True)
        return True

    run.record = record
    return run


@op("LRN")
def lrn(node, ctx):
    a = node.attrs
    size, alpha, beta, bias = int(a["size"]), float(a.get("alpha", 1e-4)), float(a.get("beta", 0.75)), \
        float(a.get("bias", 1.0))

    blocked = bool(node.attrs.get("_blocked"))  # x (N, C/16, H, W, 16): the window crosses blocks

    def run(x, out=None):
        if blocked:
            if x.ndim != 5 or x.shape[4] != _BLOCK or x.dtype != np.float32:
                raise OpError(f"{node.label()}: expected a blocked float32 input, got {x.dtype} {x.shape}")
            out = _fits(out, x.shape)
            out = _memory.empty(x.shape) if out is None else out
            _C.lrn(np.ascontiguousarray(x), out, size, alpha, beta, bias, blocked=True)
            return out
        if _layers.is_f32(x) and x.ndim >= 3:
            return fastconv.lrn(x, size, alpha, beta, bias, out=_fits(out, x.shape))
        return _layer("lrn", x)(x, size, alpha, beta, bias)

    def record(program, args, y, dyn):
        x = args[0]
        if x.ndim < 3 or not _layers.plain_f32(x) or y is None or y.dtype != np.float32 or size < 1 or not bias > 0:
            return False
        program.add_lrn(x, dyn(x), y, size, alpha, beta, bias, blocked=blocked)
        return True

    run.record = record
    return _takes_out(run)


_SIMPLE_ACT = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hard_swish",
               "Softplus": "softplus"}


@op(*_SIMPLE_ACT)
def simple_activation(node, ctx):
    kind = _SIMPLE_ACT[node.op]

    def run(x, out=None):
        if _layers.is_f32(x):
            return fastconv.activation(x, kind, out=_fits(out, x.shape))
        return _numpy_layers.activation(x, kind)

    return _takes_out(run)


@op("LeakyRelu", "Elu", "HardSigmoid")
def param_activation(node, ctx):
    a = node.attrs
    if node.op == "LeakyRelu":
        args = ("leaky_relu", float(a.get("alpha", 0.01)))
    elif node.op == "Elu":
        args = ("elu", float(a.get("alpha", 1.0)))
    else:
        args = ("hard_sigmoid", float(a.get("alpha", 0.2)), float(a.get("beta", 0.5)))

    def run(x, out=None):
        if _layers.is_f32(x):
            return fastconv.activation(x, *args, out=_fits(out, x.shape))
        return _numpy_layers.activation(x, *args)

    return _takes_out(run)


@op("Clip")
def clip(node, ctx):
    def run(x, lo=None, hi=None):
        if ctx.opset < 11:
            lo, hi = node.attrs.get("min", -3.4028234663852886e38), node.attrs.get("max", 3.4028234663852886e38)
        if not _layers.is_f32(x):
            lo = np.iinfo(x.dtype).min if lo is None and x.dtype.kind in "iu" else lo
            hi = np.iinfo(x.dtype).max if hi is None and x.dtype.kind in "iu" else hi
            return np.clip(x, lo, hi).astype(x.dtype)
        lo = -np.inf if lo is None else float(lo)
        hi = np.inf if hi is None else float(hi)
        if lo > hi:  # ONNX: every element becomes max when min > max
            return np.full_like(x, hi)
        return _layers.get("activation")(x, "clip", lo, hi)

    return run


@op("PRelu")
def prelu(node, ctx):
    def run(x, slope):
        if _layers.is_f32(x, slope) and slope.size == 1:
            return _layers.get("activation")(x, "leaky_relu", float(slope.reshape(-1)[0]))
        if slope.ndim == 1 and x.ndim > 2 and slope.shape[0] == x.shape[1] != x.shape[-1]:
            slope = slope.reshape((-1,) + (1,) * (x.ndim - 2))  # opset < 7: one slope per channel
        return np.where(x >= 0, x, x * slope).astype(x.dtype)

    return run


def _coerce2d(x, axis):
    axis = axis + x.ndim if axis < 0 else axis
    return x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)


@op("Softmax", "LogSoftmax")
def softmax(node, ctx):
    name = "softmax" if node.op == "Softmax" else "log_softmax"
    legacy = ctx.opset < 13
    axis = int(node.attrs.get("axis", 1 if legacy else -1))

    def _softmax_layer(x, a, out):
        if not _layers.is_f32(x):
            return getattr(_numpy_layers, name)(x, axis=a)
        return _layers.get(name)(x, axis=a, out=None if out is None else out.reshape(x.shape))

    def run(x, out=None):
        if x.size == 0:
            return x.copy()
        if legacy:  # the input as 2-D: rows are the dimensions before axis, flattened
            x2 = np.ascontiguousarray(_coerce2d(x, axis))
            return _softmax_layer(x2, -1, _fits(out, x.shape)).reshape(x.shape)
        return _softmax_layer(x, axis, _fits(out, x.shape))

    def record(program, args, y, dyn):
        x = args[0]
        if not _layers.plain_f32(x) or x.ndim == 0 or x.size == 0 or y is None or y.dtype != np.float32:
            return False
        a = axis + x.ndim if axis < 0 else axis
        # legacy softmax runs over all dimensions from axis on: the same as along axis alone only
        # when the ones after it are 1 (a classifier's (N, 1000) or (N, 1000, 1, 1))
        if not 0 <= a < x.ndim or y.shape != x.shape or (legacy and int(np.prod(x.shape[a + 1:])) != 1):
            return False
        program.add_softmax(x, dyn(x), y, a, name == "log_softmax")
        return True

    run.record = record
    return _takes_out(run)


@op("Identity")
def identity(node, ctx):
    return lambda x: x


@op("Dropout")
def dropout(node, ctx):
    def run(x, *rest):
        if len(node.outputs) > 1 and node.outputs[1]:
            return x, np.ones(x.shape, dtype=bool)
        return x

    return run

"""The GPU backend's math in array form, generic over the array module `xp` (numpy or cupy).

Two uses: the GPU plans call the parts that are array operations anyway (Winograd filter
transform, batched GEMMs, batch-norm folding) with xp=cupy; and every function that mirrors a CUDA
kernel's index math (im2col, Winograd input/output transforms, pooling windows, the epilogue)
runs under numpy in tests/test_gpu_host.py against float64 references, so the math is checked on
machines without a GPU. Keep each function in step with the kernel its docstring names.
"""
from __future__ import annotations

# fc::ActKind (csrc/act/act-params.h) and FC_ACT_* (kernels/common.cuh), by name.
ACT_CODES = {"none": 0, "relu": 1, "clip": 2, "leaky_relu": 3, "sigmoid": 4, "tanh": 5, "silu": 6,
             "hard_sigmoid": 7, "hard_swish": 8, "elu": 9, "softplus": 10}


def activate(xp, x, kind: str, alpha: float = 0.0, beta: float = 0.0):
    """fc_activate (kernels/common.cuh) on an array."""
    if kind == "none":
        return x
    if kind == "relu":
        return xp.maximum(x, 0)
    if kind == "clip":
        return xp.minimum(xp.maximum(x, alpha), beta)
    if kind == "leaky_relu":
        return xp.where(x >= 0, x, alpha * x)
    if kind == "sigmoid":
        return 1 / (1 + xp.exp(-x))
    if kind == "tanh":
        return xp.tanh(x)
    if kind == "silu":
        return x / (1 + xp.exp(-x))
    if kind == "hard_sigmoid":
        return xp.clip(alpha * x + beta, 0, 1)
    if kind == "hard_swish":
        return x * xp.clip(x / 6 + 0.5, 0, 1)
    if kind == "elu":
        return xp.where(x >= 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
    if kind == "softplus":
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
    raise ValueError(f"unknown activation kind {kind!r}")


def channel_epilogue(xp, x, scale=None, shift=None, residual=None, act=("none", 0.0, 0.0)):
    """fc_channel_epilogue (kernels/epilogue.cu): act(x * scale[c] + shift[c] + residual), NC...."""
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if scale is not None:
        x = x * scale.reshape(bshape)
    if shift is not None:
        x = x + shift.reshape(bshape)
    if residual is not None:
        x = x + residual
    return activate(xp, x, *act)


def fold_batch_norm(xp, gamma, beta, mean, var, eps: float):
    """Inference batch norm as one affine map per channel: y = x * scale + shift."""
    scale = gamma / xp.sqrt(var + eps)
    return scale, beta - mean * scale


def fold_into_conv(weight, bias, scale, shift):
    """conv(x, w) + b followed by (* scale + shift) is conv(x, w * scale) + (b * scale + shift)."""
    w = weight * scale.reshape(-1, 1, 1, 1)
    b = shift if bias is None else bias * scale + shift
    return w, b


# ---- im2col + GEMM (kernels/im2col.cu) --------------------------------------------------------

def im2col_source(xp, i, g):
    """For flat indices i into cols (n, C*kh*kw, OH*OW): the image, channel, input row and column
    each element reads, and whether that lies inside the input (else it is padding, 0)."""
    plane, rows = g.oh * g.ow, g.c * g.kh * g.kw
    p, row, n = i % plane, (i // plane) % rows, i // (plane * rows)
    s, r, c = row % g.kw, (row // g.kw) % g.kh, row // (g.kw * g.kh)
    oh, ow = p // g.ow, p % g.ow
    ih = oh * g.stride[0] - g.pads[0] + r * g.dilation[0]
    iw = ow * g.stride[1] - g.pads[1] + s * g.dilation[1]
    return n, c, ih, iw, (ih >= 0) & (ih < g.h) & (iw >= 0) & (iw < g.w)


def im2col(xp, x, g):
    """fc_im2col as a gather: cols (n, C*kh*kw, OH*OW)."""
    n = x.shape[0]
    i = xp.arange(n * g.c * g.kh * g.kw * g.oh * g.ow, dtype=xp.int64)
    img, c, ih, iw, ok = im2col_source(xp, i, g)
    vals = x[img, c, xp.clip(ih, 0, g.h - 1), xp.clip(iw, 0, g.w - 1)]
    return xp.where(ok, vals, 0).astype(x.dtype).reshape(n, g.c * g.kh * g.kw, g.oh * g.ow)


def grouped_weight_matrix(weight, groups: int):
    """(K, C/g, kh, kw) -> (g, K/g, C/g*kh*kw): the left GEMM operand of each group."""
    k = weight.shape[0]
    return weight.reshape(groups, k // groups, -1)


def gemm_conv(xp, cols, wmat, oh: int, ow: int):
    """Y = W @ cols for every image and group in one batched matmul -> (n, K, OH, OW).
    cols: (n, g * C/g*kh*kw, P); wmat: (g, K/g, C/g*kh*kw). The GPU plan makes the same products
    with one strided-batched cuBLAS call per group (_blas.py)."""
    n, groups = cols.shape[0], wmat.shape[0]
    y = xp.matmul(wmat, cols.reshape(n, groups, wmat.shape[2], oh * ow))
    return y.reshape(n, groups * wmat.shape[1], oh, ow)


# ---- Winograd F(2x2, 3x3) (kernels/winograd.cu) -----------------------------------------------

def _winograd_matrices(xp, dtype):
    bt = xp.asarray([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=dtype)
    g = xp.asarray([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=dtype)
    at = xp.asarray([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=dtype)
    return bt, g, at


def winograd_f2x3_filter(xp, weight):
    """U = G w G^T per (k, c), laid out (16, K, C) for the batched GEMM. Computed once per plan
    (in float64 then rounded, so the cached transform adds no error of its own)."""
    _, g, _ = _winograd_matrices(xp, xp.float64)
    u = xp.einsum("ar,kcrs,bs->abkc", g, weight.astype(xp.float64), g)
    return xp.ascontiguousarray(u.reshape(16, weight.shape[0], weight.shape[1]).astype(weight.dtype))


def winograd_f2x3_input(xp, x, pad_top: int, pad_left: int, tiles_h: int, tiles_w: int):
    """fc_winograd_f2x3_input: V (16, C, n*tiles_h*tiles_w) = B^T d B of every 4x4 input tile
    (tile (th, tw) starts at row 2*th - pad_top, column 2*tw - pad_left; outside reads as 0)."""
    n, c, h, w = x.shape
    padded = xp.zeros((n, c, 2 * tiles_h + 2, 2 * tiles_w + 2), dtype=x.dtype)
    # The tile grid spans rows [-pad_top, 2*tiles_h + 2 - pad_top); copy the part inside x.
    rh, rw = min(h, 2 * tiles_h + 2 - pad_top), min(w, 2 * tiles_w + 2 - pad_left)
    padded[:, :, pad_top:pad_top + rh, pad_left:pad_left + rw] = x[:, :, :rh, :rw]
    a = xp.arange(4)
    rows = (2 * xp.arange(tiles_h))[:, None] + a[None, :]     # (th, 4)
    cols = (2 * xp.arange(tiles_w))[:, None] + a[None, :]     # (tw, 4)
    d = padded[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # (n, c, th, tw, 4, 4)
    bt, _, _ = _winograd_matrices(xp, x.dtype)
    v = xp.einsum("ai,nctuij,bj->abcntu", bt, d, bt)
    return xp.ascontiguousarray(v.reshape(16, c, n * tiles_h * tiles_w))


def winograd_f2x3_output(xp, m, n: int, oh: int, ow: int, tiles_h: int, tiles_w: int):
    """fc_winograd_f2x3_output without the epilogue: y (n, K, OH, OW) = A^T M A, cropped."""
    k = m.shape[1]
    _, _, at = _winograd_matrices(xp, m.dtype)
    t = m.reshape(4, 4, k, n, tiles_h, tiles_w)
    y = xp.einsum("ia,abknhw,jb->knhiwj", at, t, at).reshape(k, n, 2 * tiles_h, 2 * tiles_w)
    return xp.ascontiguousarray(y.transpose(1, 0, 2, 3)[:, :, :oh, :ow])


def winograd_gemm(xp, u, v):
    """M[e] = U[e] @ V[e] for the 16 transform positions (one batched matmul)."""
    return xp.matmul(u, v)


# ---- pooling (kernels/pool.cu) ----------------------------------------------------------------

def pool_window_starts(out: int, stride: int, pad_begin: int):
    """First input position of each output's window along one axis (may be negative: padding)."""
    return [o * stride - pad_begin for o in range(out)]


def max_pool2d(xp, x, kernel, stride, pads, dilation, out_hw):
    """fc_max_pool2d: the max over each window's in-bounds elements (padding never wins)."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    pt, pl, pb, pr = pads
    h, w = x.shape[2:]
    neg = xp.full(x.shape[:2] + (h + pt + pb + sh * oh + dh * kh, w + pl + pr + sw * ow + dw * kw), -xp.inf,
                  dtype=x.dtype)
    neg[:, :, pt:pt + h, pl:pl + w] = x
    y = None
    for r in range(kh):
        for s in range(kw):
            tap = neg[:, :, r * dh: r * dh + sh * (oh - 1) + 1: sh, s * dw: s * dw + sw * (ow - 1) + 1: sw]
            y = tap if y is None else xp.maximum(y, tap)
    return y


def avg_pool2d(xp, x, kernel, stride, pads, out_hw, count_include_pad: bool):
    """fc_avg_pool2d: window sums over the input divided by the window clipped to the padded input
    (count_include_pad) or by its in-input element count."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    pt, pl, pb, pr = pads
    n, c, h, w = x.shape
    y = xp.empty((n, c, oh, ow), dtype=x.dtype)
    for i, h0 in enumerate(pool_window_starts(oh, sh, pt)):
        h1 = min(h0 + kh, h + pb)
        for j, w0 in enumerate(pool_window_starts(ow, sw, pl)):
            w1 = min(w0 + kw, w + pr)
            hs, ws, he, we = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            count = (h1 - h0) * (w1 - w0) if count_include_pad else (he - hs) * (we - ws)
            y[:, :, i, j] = x[:, :, hs:he, ws:we].sum(axis=(2, 3)) / count
    return y


def softmax(xp, x, axis: int, log: bool = False):
    """fc_softmax_*: exp(x - max) / sum, or x - max - log(sum) when log."""
    shifted = x - x.max(axis=axis, keepdims=True)
    e = xp.exp(shifted)
    return shifted - xp.log(e.sum(axis=axis, keepdims=True)) if log else e / e.sum(axis=axis, keepdims=True)


def lrn(xp, x, size: int, alpha: float, beta: float, bias: float):
    """fc_lrn: x / (bias + alpha/size * sum of squares over the channel window) ** beta."""
    c = x.shape[1]
    before = (size - 1) // 2
    sq = x * x
    acc = xp.zeros_like(x)
    for ch in range(c):
        acc[:, ch] = sq[:, max(ch - before, 0):min(ch - before + size, c)].sum(axis=1)
    return x * (bias + alpha / size * acc) ** (-beta)

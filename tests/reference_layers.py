"""Float64 references for the layer kernels, written from the definitions (ONNX / PyTorch
semantics), by brute force over windows: slow, obvious, independent of the engine."""
import math

import numpy as np


def pool_out(n, k, s, d, p0, p1, ceil_mode):
    span = d * (k - 1) + 1
    num = n + p0 + p1 - span
    out = (math.ceil(num / s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= n + p0:
        out -= 1
    return out


def pool2d_ref(x, kind, k, s, d, pads, ceil_mode=False, count_include_pad=False):
    x = np.asarray(x, np.float64)
    n, c, h, w = x.shape
    pt, pl, pb, pr = pads
    oh = pool_out(h, k[0], s[0], d[0], pt, pb, ceil_mode)
    ow = pool_out(w, k[1], s[1], d[1], pl, pr, ceil_mode)
    y = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = [i * s[0] - pt + r * d[0] for r in range(k[0])]
            cols = [j * s[1] - pl + t * d[1] for t in range(k[1])]
            vr = [r for r in rows if 0 <= r < h]
            vc = [t for t in cols if 0 <= t < w]
            win = x[:, :, vr][:, :, :, vc]
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                if count_include_pad:
                    cnt = sum(-pt <= r < h + pb for r in rows) * sum(-pl <= t < w + pr for t in cols)
                else:
                    cnt = len(vr) * len(vc)
                y[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return y


def batch_norm_ref(x, scale, bias, mean, var, eps):
    x = np.asarray(x, np.float64)
    shp = (1, -1) + (1,) * (x.ndim - 2)
    f = lambda a: np.asarray(a, np.float64).reshape(shp)  # noqa: E731
    return (x - f(mean)) / np.sqrt(f(var) + eps) * f(scale) + f(bias)


def softmax_ref(x, axis, log=False):
    x = np.asarray(x, np.float64)
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=axis, keepdims=True)
    return x - m - np.log(s) if log else e / s


def lrn_ref(x, size, alpha, beta, bias):
    x = np.asarray(x, np.float64)
    c = x.shape[1]
    sq = np.zeros_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - (size - 1) // 2), min(c - 1, ch + math.ceil((size - 1) / 2))
        sq[:, ch] = (x[:, lo:hi + 1] ** 2).sum(axis=1)
    return x / (bias + alpha / size * sq) ** beta

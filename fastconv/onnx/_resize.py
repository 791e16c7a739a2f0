"""Resize / Upsample, nearest and linear modes, every coordinate transformation mode: separable, one
axis at a time from the last to the first (the order the ONNX reference interpolates in)."""
from __future__ import annotations

import numpy as np

from ._registry import OpError


def _source_coords(mode, out_len, in_len, scale, roi=None, length=None):
    o = np.arange(out_len, dtype=np.float64)
    length = out_len if length is None else length
    if mode == "half_pixel":
        return (o + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (o + 0.5) / scale - 0.5 if out_len > 1 else np.zeros(out_len)
    if mode == "align_corners":
        return o * (in_len - 1) / (length - 1) if out_len > 1 else np.zeros(out_len)
    if mode == "asymmetric":
        return o / scale
    if mode == "tf_half_pixel_for_nn":
        return (o + 0.5) / scale
    if mode == "half_pixel_symmetric":
        adjustment = out_len / (scale * in_len)
        return in_len / 2 * (1 - adjustment) + (o + 0.5) / scale - 0.5
    if mode == "tf_crop_and_resize":
        start, end = roi
        if out_len > 1:
            return start * (in_len - 1) + o * (end - start) * (in_len - 1) / (length - 1)
        return np.full(out_len, 0.5 * (start + end) * (in_len - 1))
    raise OpError(f"Resize: unknown coordinate_transformation_mode {mode!r}")


def _nearest(x, rule):
    if rule == "floor":
        return np.floor(x)
    if rule == "ceil":
        return np.ceil(x)
    frac = x - np.floor(x)
    if rule == "round_prefer_ceil":
        return np.where(frac == 0.5, np.ceil(x), np.round(x))
    if rule == "round_prefer_floor":
        return np.where(frac == 0.5, np.floor(x), np.round(x))
    raise OpError(f"Resize: unknown nearest_mode {rule!r}")


def make_resize(node, ctx):
    a = node.attrs
    mode = a.get("mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear"):
        raise OpError(f"{node.label()}: Resize mode {mode!r} is not supported (nearest and linear are)")
    if a.get("antialias", 0):
        raise OpError(f"{node.label()}: antialiased Resize is not supported")
    legacy = node.op == "Upsample" or ctx.opset < 11
    coord = "asymmetric" if legacy else a.get("coordinate_transformation_mode", "half_pixel")
    rule = "floor" if legacy else a.get("nearest_mode", "round_prefer_floor")
    extrapolation = float(a.get("extrapolation_value", 0.0))
    policy = a.get("keep_aspect_ratio_policy", "stretch")

    def run(x, *rest):
        if node.op == "Upsample" and ctx.opset < 9:
            roi, scales, sizes = None, a["scales"], None
        elif legacy:
            roi, scales, sizes = None, rest[0], None
        else:
            roi = rest[0] if len(rest) > 0 else None
            scales = rest[1] if len(rest) > 1 else None
            sizes = rest[2] if len(rest) > 2 else None
        axes = [int(i) % x.ndim for i in a.get("axes", range(x.ndim))]
        in_shape = [x.shape[i] for i in axes]
        lengths = None  # align_corners & co. use in * scale unrounded when scales are given
        if sizes is not None and np.asarray(sizes).size:
            sizes = [int(s) for s in np.asarray(sizes).reshape(-1)]
            if policy != "stretch":
                ratios = [s / i for s, i in zip(sizes, in_shape)]
                r = min(ratios) if policy == "not_larger" else max(ratios)
                sizes = [int(np.floor(r * i + 0.5)) for i in in_shape]
                scales = [r] * len(axes)
            else:
                scales = [s / i for s, i in zip(sizes, in_shape)]
        elif scales is not None and np.asarray(scales).size:
            scales = [float(s) for s in np.asarray(scales).reshape(-1)]
            sizes = [int(np.floor(i * s)) for i, s in zip(in_shape, scales)]
            lengths = [i * s for i, s in zip(in_shape, scales)]
        else:
            raise OpError(f"{node.label()}: Resize needs scales or sizes")
        if roi is not None and np.asarray(roi).size:
            roi = np.asarray(roi, np.float64).reshape(-1)
        else:
            roi = None
        y = x.astype(np.float64) if x.dtype.kind == "f" else x
        for j in reversed(range(len(axes))):
            ax, n_in, n_out, s = axes[j], in_shape[j], sizes[j], scales[j]
            if n_in == n_out and coord != "tf_crop_and_resize" and s == 1.0:
                continue
            r = (roi[j], roi[j + len(axes)]) if roi is not None else (0.0, 1.0)
            src = _source_coords(coord, n_out, n_in, s, r, None if lengths is None else lengths[j])
            outside = (src < 0) | (src > n_in - 1) if coord == "tf_crop_and_resize" else None
            if mode == "nearest":
                idx = np.clip(_nearest(src, rule), 0, n_in - 1).astype(np.int64)
                y = np.take(y, idx, axis=ax)
            else:
                c = np.clip(src, 0, n_in - 1)
                i0 = np.floor(c).astype(np.int64)
                i1 = np.minimum(i0 + 1, n_in - 1)
                w = (c - i0).reshape([-1 if k == ax else 1 for k in range(y.ndim)])
                y0 = np.take(y, i0, axis=ax).astype(np.float64)
                y = y0 + (np.take(y, i1, axis=ax) - y0) * w
            if outside is not None and outside.any():
                index = [slice(None)] * y.ndim
                index[ax] = outside
                y = y.astype(np.float64)
                y[tuple(index)] = extrapolation
        return y.astype(x.dtype)

    return run

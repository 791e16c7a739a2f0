"""Float64 numpy references that the kernels are tested against (written from the definitions,
independent of the engine's algorithms)."""
import numpy as np


def conv2d_ref(x, w, bias=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """Direct convolution in float64: NCHW input, OIHW weights, pads (top, left, bottom, right)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    pt, pl, pb, pr = pads
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, k, oh, ow))
    kg = k // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        wg = w[g * kg:(g + 1) * kg]
        for r in range(kh):
            for s in range(kw):
                patch = xs[:, :, r * dh: r * dh + sh * (oh - 1) + 1: sh, s * dw: s * dw + sw * (ow - 1) + 1: sw]
                y[:, g * kg:(g + 1) * kg] += np.einsum("nchw,kc->nkhw", patch, wg[:, :, r, s])
    if bias is not None:
        y += np.asarray(bias, np.float64)[None, :, None, None]
    return y


def activation_ref(kind, x, alpha=0.0, beta=0.0):
    x = np.asarray(x, np.float64)
    if kind in (None, "none"):
        return x
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "relu6":
        return np.clip(x, 0, 6)
    if kind == "clip":
        return np.clip(x, alpha, beta)
    if kind == "leaky_relu":
        return np.where(x >= 0, x, alpha * x)
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if kind == "tanh":
        return np.tanh(x)
    if kind == "silu":
        return x / (1 + np.exp(-x))
    if kind == "hard_sigmoid":
        return np.clip(alpha * x + beta, 0, 1)
    if kind == "hard_swish":
        return x * np.clip(x / 6 + 0.5, 0, 1)
    if kind == "elu":
        return np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0)))
    if kind == "softplus":
        return np.logaddexp(0, x)
    raise ValueError(kind)


def rel_err(y, ref):
    """Relative L2 error ||y - ref|| / ||ref||."""
    ref = np.asarray(ref, np.float64)
    return float(np.linalg.norm(np.asarray(y, np.float64) - ref) / max(np.linalg.norm(ref), 1e-30))

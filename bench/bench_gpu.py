"""GPU benchmark and correctness table for fastconv.gpu, side by side with cuDNN (through PyTorch)
in the same process. Needs CuPy and a CUDA GPU; PyTorch is optional (its columns read n/a).

    python bench/bench_gpu.py [--quick] [--repeats 30]

Prints four tables (markdown, ready for bench/RESULTS.md):
  1. correctness of every GPU kernel vs the CPU engine (conv) or float64 references (layers)
  2. latency of the foundation conv layers, ours (FP32 and TF32) vs cuDNN (FP32 and TF32)
  3. ResNet-50 / VGG-19 at batch 1 and 64, built from fastconv.gpu ops, vs the same network in
     PyTorch/cuDNN with the same (BN-folded) weights
  4. pooling / batch norm / activation bandwidth vs a device-to-device copy
Timing: CUDA events on each library's stream, warm-up first, ours and the peer interleaved inside
one loop, medians over repeats.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fastconv  # noqa: E402
import fastconv.gpu as fg  # noqa: E402
from fastconv.gpu import _math  # noqa: E402

try:
    import torch
    import torch.nn.functional as tF
    HAVE_TORCH = torch.cuda.is_available()
except ImportError:
    HAVE_TORCH = False

cp = None   # cupy, imported in main() after the availability check


def rel(y, ref):
    ref = np.asarray(ref, np.float64)
    return float(np.linalg.norm(np.asarray(y, np.float64) - ref) / max(np.linalg.norm(ref), 1e-30))


# ---- timing ----------------------------------------------------------------------------------------

def _time_cupy(fn):
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    fn()
    stop.record()
    stop.synchronize()
    return cp.cuda.get_elapsed_time(start, stop)


def _time_torch(fn):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop)


def interleaved(fns: dict, repeats: int, warmup: int = 3, inner: int = 1) -> dict:
    """Median ms per call of each (timer, fn) in fns, run in turn inside one loop."""
    for _ in range(warmup):
        for timer, fn in fns.values():
            timer(fn)
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, (timer, fn) in fns.items():
            times[k].append(timer(lambda: [fn() for _ in range(inner)]) / inner)
    return {k: float(np.median(v)) for k, v in times.items()}


# ---- 1. correctness -----------------------------------------------------------------------------------

def correctness_rows(rng):
    rows = []

    def conv_case(name, n, c, h, w, k, kh, stride, pad, groups, algo, tf32=False, act="relu"):
        x = rng.standard_normal((n, c, h, w)).astype(np.float32)
        wt = (rng.standard_normal((k, c // groups, kh, kh)) / np.sqrt(c // groups * kh * kh)).astype(np.float32)
        b = rng.standard_normal(k).astype(np.float32)
        cpu = fastconv.ConvPlan(wt, b, stride, pad, 1, groups, act)
        res = rng.standard_normal(cpu.output_shape(x.shape)).astype(np.float32)
        want = cpu(x, residual=res)
        got = fg.ConvPlan(wt, b, stride, pad, 1, groups, act, algo=algo, allow_tf32=tf32)(
            cp.asarray(x), residual=cp.asarray(res)).get()
        rows.append((name, "CPU engine", rel(got, want), 3e-3 if tf32 else 1e-5))

    conv_case("conv im2col 7x7/2 +bias+res+relu", 2, 3, 64, 64, 32, 7, 2, 3, 1, "im2col")
    conv_case("conv im2col grouped 3x3", 2, 32, 20, 20, 64, 3, 1, 1, 4, "im2col")
    conv_case("conv pointwise 1x1 +bias+res+relu", 2, 64, 28, 28, 128, 1, 1, 0, 1, "pointwise")
    conv_case("conv pointwise FC (1x1 image)", 8, 512, 1, 1, 100, 1, 1, 0, 1, "pointwise")
    conv_case("conv winograd F(2x2,3x3) +bias+res+relu", 2, 64, 28, 28, 64, 3, 1, 1, 1, "winograd")
    conv_case("conv depthwise 3x3 +bias+res+relu", 2, 32, 56, 56, 32, 3, 1, 1, 32, "depthwise")
    conv_case("conv im2col TF32", 2, 64, 28, 28, 64, 3, 2, 1, 1, "im2col", tf32=True)
    conv_case("conv winograd TF32", 2, 64, 28, 28, 64, 3, 1, 1, 1, "winograd", tf32=True)

    x = rng.standard_normal((4, 64, 56, 57)).astype(np.float32)
    x64, xd = x.astype(np.float64), cp.asarray(x)
    rows.append(("max_pool2d 3x3/2 p1", "float64 ref", rel(fg.max_pool2d(xd, 3, 2, 1).get(),
                 _math.max_pool2d(np, x64, (3, 3), (2, 2), (1,) * 4, (1, 1), (28, 29))), 1e-5))
    for include in (False, True):
        rows.append((f"avg_pool2d 3x3/2 p1 include_pad={include}", "float64 ref", rel(
            fg.avg_pool2d(xd, 3, 2, 1, count_include_pad=include).get(),
            _math.avg_pool2d(np, x64, (3, 3), (2, 2), (1,) * 4, (28, 29), include)), 1e-5))
    rows.append(("global_avg_pool2d", "float64 ref", rel(fg.global_avg_pool2d(xd).get(),
                                                         x64.mean(axis=(2, 3), keepdims=True)), 1e-5))
    rows.append(("global_max_pool2d", "float64 ref", rel(fg.global_max_pool2d(xd).get(),
                                                         x64.max(axis=(2, 3), keepdims=True)), 1e-5))
    g, b, m = (rng.standard_normal(64).astype(np.float32) for _ in range(3))
    v = rng.uniform(0.5, 2, 64).astype(np.float32)
    s, t = _math.fold_batch_norm(np, g.astype(np.float64), b.astype(np.float64), m.astype(np.float64),
                                 v.astype(np.float64), 1e-5)
    rows.append(("batch_norm + relu", "float64 ref", rel(fg.batch_norm(xd, g, b, m, v, 1e-5, "relu").get(),
                 _math.channel_epilogue(np, x64, s, t, None, ("relu", 0, 0))), 1e-5))
    for kind in _math.ACT_CODES:
        spec = {"clip": ("clip", -1, 1), "leaky_relu": ("leaky_relu", 0.1), "none": None}.get(kind, kind)
        rows.append((f"activation {kind}", "float64 ref", rel(fg.activation(xd, spec).get(),
                     _math.activate(np, x64, *fastconv._checks.activation(spec))), 1e-5))
    rows.append(("softmax axis=1", "float64 ref", rel(fg.softmax(xd, 1).get(), _math.softmax(np, x64, 1)), 1e-5))
    rows.append(("log_softmax axis=1", "float64 ref", rel(fg.log_softmax(xd, 1).get(),
                                                          _math.softmax(np, x64, 1, log=True)), 1e-5))
    logits = rng.standard_normal((64, 1000)).astype(np.float32)
    rows.append(("softmax last axis", "float64 ref", rel(fg.softmax(cp.asarray(logits), -1).get(),
                 _math.softmax(np, logits.astype(np.float64), -1)), 1e-5))
    rows.append(("lrn size 5", "float64 ref", rel(fg.lrn(xd, 5, 1e-4, 0.75, 2.0).get(),
                 _math.lrn(np, x64, 5, 1e-4, 0.75, 2.0)), 1e-5))
    return rows


# ---- 2. conv layers ---------------------------------------------------------------------------------

LAYERS = [  # name, (n, c, h, w), (k, kh, kw), stride, pad, groups
    ("ResNet-50 3x3 56x56 64->64", (1, 64, 56, 56), (64, 3, 3), 1, 1, 1),
    ("ResNet-50 3x3 14x14 256->256", (1, 256, 14, 14), (256, 3, 3), 1, 1, 1),
    ("ResNet-50 1x1 56x56 64->256", (1, 64, 56, 56), (256, 1, 1), 1, 0, 1),
    ("ResNet-50 1x1 7x7 512->2048", (1, 512, 7, 7), (2048, 1, 1), 1, 0, 1),
    ("ResNet-50 7x7/2 224x224 3->64", (1, 3, 224, 224), (64, 7, 7), 2, 3, 1),
    ("VGG 3x3 224x224 64->64", (1, 64, 224, 224), (64, 3, 3), 1, 1, 1),
    ("VGG 3x3 28x28 512->512", (1, 512, 28, 28), (512, 3, 3), 1, 1, 1),
    ("AlexNet 11x11/4 227x227 3->96", (1, 3, 227, 227), (96, 11, 11), 4, 0, 1),
    ("depthwise 3x3 112x112x32", (1, 32, 112, 112), (32, 3, 3), 1, 1, 32),
    ("3x3 56x56 64->64 batch 8", (8, 64, 56, 56), (64, 3, 3), 1, 1, 1),
]


def layer_rows(rng, repeats):
    rows = []
    for name, xs, (k, kh, kw), stride, pad, groups in LAYERS:
        x = rng.standard_normal(xs).astype(np.float32)
        wt = (rng.standard_normal((k, xs[1] // groups, kh, kw)) / np.sqrt(xs[1] // groups * kh * kw)).astype(np.float32)
        b = rng.standard_normal(k).astype(np.float32)
        ours = fg.ConvPlan(wt, b, stride, pad, 1, groups, "relu")
        ours32 = fg.ConvPlan(wt, b, stride, pad, 1, groups, "relu", allow_tf32=True)
        xd = cp.asarray(x)
        out = cp.empty(ours.output_shape(x.shape), cp.float32)
        fns = {"ours": (_time_cupy, lambda: ours(xd, out=out)), "ours_tf32": (_time_cupy, lambda: ours32(xd, out=out))}
        ours(xd, out=out)
        err = rel(out.get(), fastconv.conv2d(x, wt, b, stride, pad, 1, groups, "relu"))
        if HAVE_TORCH:
            xt, wtt, bt = (torch.from_numpy(a).cuda() for a in (x, wt, b))
            tfn = lambda: torch.relu_(tF.conv2d(xt, wtt, bt, stride, pad, 1, groups))  # noqa: E731

            def tf32_off():
                torch.backends.cudnn.allow_tf32 = False
                tfn()

            def tf32_on():
                torch.backends.cudnn.allow_tf32 = True
                tfn()
            fns["cudnn"] = (_time_torch, tf32_off)
            fns["cudnn_tf32"] = (_time_torch, tf32_on)
        t = interleaved(fns, repeats)
        g = ours._geometry(x.shape)
        rows.append((name, ours.algo, err, g.flops, t))
    return rows


# ---- 3. networks ------------------------------------------------------------------------------------

def _conv_weights(rng, k, c, kh, groups=1):
    w = (rng.standard_normal((k, c // groups, kh, kh)) * np.sqrt(2.0 / (c // groups * kh * kh))).astype(np.float32)
    return w, (0.01 * rng.standard_normal(k)).astype(np.float32)


def resnet50_spec(rng):
    """[(kind, params)]: a ResNet-50 v1.5 with BN folded into each conv (bias), random weights."""
    layers = [("conv", dict(wb=_conv_weights(rng, 64, 3, 7), stride=2, pad=3, act="relu")), ("maxpool", {})]
    c = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            s = stride if i == 0 else 1
            block = dict(c1=_conv_weights(rng, width, c, 1), c2=_conv_weights(rng, width, width, 3), stride=s,
                         c3=_conv_weights(rng, 4 * width, width, 1),
                         down=_conv_weights(rng, 4 * width, c, 1) if i == 0 else None)
            layers.append(("bottleneck", block))
            c = 4 * width
    layers += [("gap", {}), ("fc", dict(wb=_conv_weights(rng, 1000, 2048, 1)))]
    return layers


def vgg19_spec(rng):
    layers, c = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"):
        if v == "M":
            layers.append(("maxpool2", {}))
        else:
            layers.append(("conv", dict(wb=_conv_weights(rng, v, c, 3), stride=1, pad=1, act="relu")))
            c = v
    layers += [("flatten", {}), ("fc", dict(wb=_conv_weights(rng, 4096, 25088, 1), act="relu")),
               ("fc", dict(wb=_conv_weights(rng, 4096, 4096, 1), act="relu")),
               ("fc", dict(wb=_conv_weights(rng, 1000, 4096, 1)))]
    return layers


def build_ours(spec, tf32):
    """A callable x -> logits from fastconv.gpu plans (weights uploaded once)."""
    P = lambda wb, **kw: fg.ConvPlan(*wb, allow_tf32=tf32, **kw)  # noqa: E731
    steps = []
    for kind, p in spec:
        if kind == "conv":
            steps.append(P(p["wb"], stride=p["stride"], padding=p["pad"], activation=p["act"]))
        elif kind == "maxpool":
            steps.append(lambda x: fg.max_pool2d(x, 3, 2, 1))
        elif kind == "maxpool2":
            steps.append(lambda x: fg.max_pool2d(x, 2, 2))
        elif kind == "bottleneck":
            c1, c2 = P(p["c1"], activation="relu"), P(p["c2"], stride=p["stride"], padding=1, activation="relu")
            c3 = P(p["c3"], activation="relu")
            down = P(p["down"], stride=p["stride"]) if p["down"] is not None else None

            def block(x, c1=c1, c2=c2, c3=c3, down=down):
                return c3(c2(c1(x)), residual=x if down is None else down(x))
            steps.append(block)
        elif kind == "gap":
            steps.append(fg.global_avg_pool2d)
        elif kind == "flatten":
            steps.append(lambda x: x.reshape(x.shape[0], -1, 1, 1))
        elif kind == "fc":
            steps.append(P(p["wb"], activation=p.get("act")))

    def run(x):
        for f in steps:
            x = f(x)
        return x.reshape(x.shape[0], -1)
    return run


def build_torch(spec):
    T = lambda wb: tuple(torch.from_numpy(a).cuda() for a in wb)  # noqa: E731
    steps = []
    for kind, p in spec:
        if kind == "conv":
            w, b = T(p["wb"])
            steps.append(lambda x, w=w, b=b, s=p["stride"], pd=p["pad"]: torch.relu_(tF.conv2d(x, w, b, s, pd)))
        elif kind == "maxpool":
            steps.append(lambda x: tF.max_pool2d(x, 3, 2, 1))
        elif kind == "maxpool2":
            steps.append(lambda x: tF.max_pool2d(x, 2, 2))
        elif kind == "bottleneck":
            (w1, b1), (w2, b2), (w3, b3) = T(p["c1"]), T(p["c2"]), T(p["c3"])
            down = T(p["down"]) if p["down"] is not None else None

            def block(x, w1=w1, b1=b1, w2=w2, b2=b2, w3=w3, b3=b3, down=down, s=p["stride"]):
                y = torch.relu_(tF.conv2d(x, w1, b1))
                y = torch.relu_(tF.conv2d(y, w2, b2, s, 1))
                r = x if down is None else tF.conv2d(x, down[0], down[1], s)
                return torch.relu_(tF.conv2d(y, w3, b3) + r)
            steps.append(block)
        elif kind == "gap":
            steps.append(lambda x: tF.adaptive_avg_pool2d(x, 1))
        elif kind == "flatten":
            steps.append(lambda x: x.reshape(x.shape[0], -1, 1, 1))
        elif kind == "fc":
            w, b = T(p["wb"])
            w = w.reshape(w.shape[0], -1)
            relu = p.get("act") == "relu"
            steps.append(lambda x, w=w, b=b, relu=relu: (torch.relu_ if relu else (lambda t: t))(
                tF.linear(x.reshape(x.shape[0], -1), w, b)).reshape(x.shape[0], -1, 1, 1))

    @torch.inference_mode()
    def run(x):
        for f in steps:
            x = f(x)
        return x.reshape(x.shape[0], -1)
    return run


def network_rows(rng, repeats, batches):
    rows = []
    for name, make in (("ResNet-50", resnet50_spec), ("VGG-19", vgg19_spec)):
        spec = make(rng)
        ours, ours32 = build_ours(spec, False), build_ours(spec, True)
        peer = build_torch(spec) if HAVE_TORCH else None
        for n in batches:
            x = rng.standard_normal((n, 3, 224, 224)).astype(np.float32)
            xd = cp.asarray(x)
            fns = {"ours": (_time_cupy, lambda: ours(xd)), "ours_tf32": (_time_cupy, lambda: ours32(xd))}
            err = float("nan")
            if peer is not None:
                xt = torch.from_numpy(x).cuda()
                torch.backends.cudnn.allow_tf32 = False
                err = rel(ours(xd).get(), peer(xt).cpu().numpy())

                def off():
                    torch.backends.cudnn.allow_tf32 = False
                    peer(xt)

                def on():
                    torch.backends.cudnn.allow_tf32 = True
                    peer(xt)
                fns["cudnn"], fns["cudnn_tf32"] = (_time_torch, off), (_time_torch, on)
            rows.append((f"{name} batch {n}", err, interleaved(fns, max(5, repeats // 3))))
    return rows


# ---- 4. memory-bound kernels vs copy bandwidth ---------------------------------------------------------

def bandwidth_rows(rng, repeats):
    x = cp.asarray(rng.standard_normal((64, 256, 56, 56)).astype(np.float32))   # 205 MB
    y = cp.empty_like(x)
    c = 256
    g, b, m = (cp.asarray(rng.standard_normal(c).astype(np.float32)) for _ in range(3))
    v = cp.asarray(rng.uniform(0.5, 2, c).astype(np.float32))
    stem = cp.asarray(rng.standard_normal((64, 64, 112, 112)).astype(np.float32))
    head = cp.asarray(rng.standard_normal((64, 2048, 7, 7)).astype(np.float32))
    pooled = cp.empty((64, 64, 56, 56), cp.float32)
    gap = cp.empty((64, 2048, 1, 1), cp.float32)
    cases = {  # name: (fn, bytes moved)
        "device-to-device copy": (lambda: cp.copyto(y, x), 2 * x.nbytes),
        "batch_norm + relu": (lambda: fg.batch_norm(x, g, b, m, v, 1e-5, "relu", out=y), 2 * x.nbytes),
        "activation relu": (lambda: fg.activation(x, "relu", out=y), 2 * x.nbytes),
        "activation silu": (lambda: fg.activation(x, "silu", out=y), 2 * x.nbytes),
        "max_pool2d 3x3/2 (ResNet stem)": (lambda: fg.max_pool2d(stem, 3, 2, 1, out=pooled),
                                           stem.nbytes + pooled.nbytes),
        "avg_pool2d 3x3/2": (lambda: fg.avg_pool2d(stem, 3, 2, 1, out=pooled), stem.nbytes + pooled.nbytes),
        "global_avg_pool2d 2048x7x7": (lambda: fg.global_avg_pool2d(head, out=gap), head.nbytes + gap.nbytes),
    }
    t = interleaved({k: (_time_cupy, f) for k, (f, _) in cases.items()}, repeats)
    return [(k, nbytes / t[k] / 1e6, t[k]) for k, (_, nbytes) in cases.items()]


# ---- report -----------------------------------------------------------------------------------------

def main():
    global cp
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, batch 64 networks skipped")
    args = ap.parse_args()
    if not fg.is_available():
        sys.exit("bench_gpu.py needs CuPy and a CUDA GPU (pip install fastconv[gpu]); none usable here")
    import cupy
    cp = cupy
    repeats = 5 if args.quick else args.repeats
    rng = np.random.default_rng(0)
    dev = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    print(f"# fastconv.gpu benchmark — {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC — {dev['name'].decode()}, "
          f"CuPy {cp.__version__}, CUDA runtime {cp.cuda.runtime.runtimeGetVersion()}, "
          + (f"PyTorch {torch.__version__} / cuDNN {torch.backends.cudnn.version()}" if HAVE_TORCH
             else "PyTorch: not available (peer columns n/a)"))
    if HAVE_TORCH:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False

    print("\n## 1. Correctness (relative L2 error)\n")
    print("| kernel | against | rel. error | bound | ok |\n|---|---|---|---|---|")
    failures = 0
    checks = correctness_rows(rng)
    n_rows = len(checks)
    for name, ref, err, bound in checks:
        ok = err <= bound
        failures += not ok
        print(f"| {name} | {ref} | {err:.2e} | {bound:.0e} | {'yes' if ok else '**NO**'} |")

    fmt = lambda t, k: f"{t[k]:.3f}" if k in t else "n/a"  # noqa: E731
    ratio = lambda t, a, b: f"{t[a] / t[b]:.2f}" if b in t else "n/a"  # noqa: E731
    print("\n## 2. Conv layers (+bias+relu), median ms; ratio = ours / cuDNN (< 1: we are faster)\n")
    print("| layer | algo | rel. err vs CPU | ours FP32 ms | GFLOP/s | cuDNN FP32 ms | ratio | ours TF32 ms "
          "| cuDNN TF32 ms | ratio TF32 |\n|---|---|---|---|---|---|---|---|---|---|")
    for name, algo, err, flops, t in layer_rows(rng, repeats):
        print(f"| {name} | {algo} | {err:.1e} | {t['ours']:.3f} | {flops / t['ours'] / 1e6:.0f} | {fmt(t, 'cudnn')} "
              f"| {ratio(t, 'ours', 'cudnn')} | {t['ours_tf32']:.3f} | {fmt(t, 'cudnn_tf32')} "
              f"| {ratio(t, 'ours_tf32', 'cudnn_tf32')} |")

    print("\n## 3. Networks (BN folded, random weights), median ms per batch; target: ResNet-50 batch 64 "
          "within 1.5x of cuDNN\n")
    print("| network | rel. err vs PyTorch | ours FP32 | cuDNN FP32 | ratio | ours TF32 | cuDNN TF32 | ratio TF32 |"
          "\n|---|---|---|---|---|---|---|---|")
    nets = network_rows(rng, repeats, (1,) if args.quick else (1, 64))
    for name, err, t in nets:
        print(f"| {name} | {err:.1e} | {t['ours']:.2f} | {fmt(t, 'cudnn')} | {ratio(t, 'ours', 'cudnn')} "
              f"| {t['ours_tf32']:.2f} | {fmt(t, 'cudnn_tf32')} | {ratio(t, 'ours_tf32', 'cudnn_tf32')} |")

    print("\n## 4. Memory-bound kernels vs device-to-device copy (target >= 70% of copy)\n")
    print("| kernel | GB/s | % of copy | ms |\n|---|---|---|---|")
    rows = bandwidth_rows(rng, repeats)
    copy_bw = rows[0][1]
    for name, bw, ms in rows:
        print(f"| {name} | {bw:.0f} | {100 * bw / copy_bw:.0f}% | {ms:.3f} |")

    print("\n## Summary against the targets\n\n| check | result | target | met |\n|---|---|---|---|")
    print(f"| kernels within their error bound | {n_rows - failures}/{n_rows} | all | {'yes' if not failures else 'NO'} |")
    r50 = dict((name, t) for name, _, t in nets).get("ResNet-50 batch 64")
    if r50 and "cudnn" in r50:
        ratio64 = r50["ours"] / r50["cudnn"]
        print(f"| ResNet-50 batch 64, ours / cuDNN (FP32) | {ratio64:.2f}x | <= 1.5x | {'yes' if ratio64 <= 1.5 else 'NO'} |")
    else:
        print("| ResNet-50 batch 64, ours / cuDNN (FP32) | not run (--quick or no PyTorch) | <= 1.5x | - |")
    worst = min(rows[1:], key=lambda r: r[1])
    print(f"| slowest memory-bound kernel ({worst[0]}) | {100 * worst[1] / copy_bw:.0f}% of copy | >= 70% "
          f"| {'yes' if worst[1] >= 0.7 * copy_bw else 'NO'} |")
    if failures:
        sys.exit(f"{failures} kernel(s) outside their error bound")


if __name__ == "__main__":
    main()

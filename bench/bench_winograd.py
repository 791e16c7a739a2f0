"""Winograd 3x3 convolution vs this engine's im2col path vs onnxruntime, same process.

    python bench/bench_winograd.py                 # every layer, markdown table on stdout
    python bench/bench_winograd.py --quick         # fewer repeats
    python bench/bench_winograd.py --layers vgg224 resnet56

Each layer: one ONNX Conv model (onnx.helper) with the same weights for onnxruntime,
and fastconv plans for im2col, every Winograd variant and auto. Runs are interleaved
(one of each per round) after a warm-up, so machine noise hits all alike; the table
reports medians, effective GFLOP/s (direct-convolution FLOPs / time, may exceed the
machine peak), speed relative to onnxruntime, and each result's error against a
float64 reference (max-abs and relative L2). "auto" is the cost model's pick, "autotune"
the measured pick (fastconv.autotune), both shown with the algorithm they ran.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]  # the in-place build of this checkout
import fastconv  # noqa: E402
from fastconv import benchmark  # noqa: E402
from reference import conv2d_ref  # noqa: E402

# name: (N, C, K, H, W); all 3x3, stride 1, pad 1.
LAYERS = {
    "resnet56": (1, 64, 64, 56, 56),
    "resnet14": (1, 256, 256, 14, 14),
    "vgg224": (1, 64, 64, 224, 224),
    "vgg28": (1, 512, 512, 28, 28),
    "resnet56_b8": (8, 64, 64, 56, 56),
    "vgg112": (1, 128, 128, 112, 112),
    "vgg56": (1, 256, 256, 56, 56),
}
ALGOS = ["im2col", "winograd_2x2", "winograd_3x3", "winograd_4x4", "winograd_6x6", "auto", "autotune"]


def ort_session(w, b, threads):
    from onnx import TensorProto, helper, numpy_helper

    k, c = w.shape[:2]
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    graph = helper.make_graph([node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    return benchmark.ort_session(model.SerializeToString(), threads)


def bench_layer(name, shape, repeats, warmup, clock=time.perf_counter):
    n, c, k, h, w = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((k, c, 3, 3)) * np.sqrt(2.0 / (9 * c))).astype(np.float32)
    b = (0.1 * rng.standard_normal(k)).astype(np.float32)
    threads = fastconv.get_num_threads()
    sess = ort_session(wt, b, threads)
    runners = {"onnxruntime": lambda: sess.run(None, {"x": x})[0]}
    plans = {}
    for algo in ALGOS:
        plan = (fastconv.ConvPlan(wt, b, padding=1, autotune=True) if algo == "autotune" else
                fastconv.ConvPlan(wt, b, padding=1, algo=algo))
        out = np.empty(plan.output_shape(x.shape), np.float32)
        plans[algo] = plan
        runners[algo] = (lambda p=plan, o=out: p(x, out=o))
    outputs = {name_: fn().copy() for name_, fn in runners.items()}
    for _ in range(warmup):
        for fn in runners.values():
            fn()
    times = {name_: [] for name_ in runners}
    for _ in range(repeats):
        for name_, fn in runners.items():
            t = clock()
            fn()
            times[name_].append(clock() - t)
    ref = conv2d_ref(x, wt, b, pads=(1, 1, 1, 1))
    flops = 2.0 * n * k * c * 9 * h * w
    rows = []
    t_ort = float(np.median(times["onnxruntime"]))
    for name_, ts in times.items():
        t = float(np.median(ts))
        y = outputs[name_].astype(np.float64)
        rel = np.linalg.norm(y - ref) / np.linalg.norm(ref)
        label = f"{name_} -> {plans[name_].algo}" if name_ in ("auto", "autotune") else name_
        rows.append((name, label, t * 1e3, flops / t / 1e9, t_ort / t, float(np.abs(y - ref).max()), rel))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", nargs="*", default=list(LAYERS), choices=list(LAYERS))
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="5 repeats, 1 warm-up")
    ap.add_argument("--threads", type=int, default=None, help="threads for both engines (default: fastconv's)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="with --threads 1: time by the thread's CPU time (robust on a busy shared machine)")
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.warmup = 5, 1
    if args.threads:
        fastconv.set_num_threads(args.threads)
    if args.cpu_time and fastconv.get_num_threads() != 1:
        ap.error("--cpu-time needs --threads 1 (other threads' work would not be counted)")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    import onnxruntime as ort

    print(f"fastconv {fastconv.__version__} isa={fastconv.get_isa()} threads={fastconv.get_num_threads()}, "
          f"onnxruntime {ort.__version__}; medians of {args.repeats} interleaved runs after {args.warmup} warm-up"
          f"{', thread CPU time' if args.cpu_time else ', wall time'}\n")
    print("| layer (N,C,K,H,W) | algorithm | ms | GFLOP/s | x onnxruntime | max abs err | rel L2 err |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in args.layers:
        for row in bench_layer(name, LAYERS[name], args.repeats, args.warmup, clock):
            layer, label, ms, gf, ratio, mae, rel = row
            print(f"| {layer} {LAYERS[layer]} | {label} | {ms:.3f} | {gf:.1f} | {ratio:.2f} | {mae:.1e} | {rel:.1e} |",
                  flush=True)


if __name__ == "__main__":
    main()

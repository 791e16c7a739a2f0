"""fastconv vs numpy's SGEMM and onnxruntime's Conv, side by side in one process.

    python bench/bench_conv.py              # Markdown tables on stdout
    python bench/bench_conv.py --json r.json --reps 15 --threads 2
    python bench/bench_conv.py --threads 1 --cpu-time   # robust on a shared machine

Timing: every measurement interleaves ours and the peer's call inside one loop (so
machine noise hits both alike), after warm-up, and reports medians. "% peak" is against
this machine's fp32 FMA peak measured by fastconv._C.measure_fma_peak on the same threads.
"""
from __future__ import annotations

import os

# numpy's OpenBLAS must pick its own kernels and block sizes: environment overrides left
# from other experiments would handicap (or flatter) the peer. Must happen before import.
for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)
# OpenBLAS's idle threads spin for 2^28 cycles (~60 ms) after each call, so in the interleaved loop
# below they would hold a core through fastconv's next calls (2 threads, 1024^3: 0.55x numpy that way,
# 1.11x with this, numpy's own time unchanged: bench/RESULTS.md). 2^4 cycles: they sleep at once.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]  # bench/, then an in-place build
import fastconv  # noqa: E402
from fastconv import _C  # noqa: E402
from layers import GEMM_SIZES, LAYERS, onnx_conv_model, ort_session  # noqa: E402


CLOCK = time.perf_counter  # --cpu-time: time.thread_time (single-threaded runs only)


def interleaved_medians(fns, reps: int, warmup: int = 2, min_time: float = 0.0, block: int = 3,
                        settle: float = 2e-3):
    """Median seconds of each fn over rounds that run every fn in turn, `block` calls each.

    Each block starts with untimed calls, at least one and for at least `settle` seconds: both
    engines keep their worker threads spinning for a while after a call (onnxruntime's pool,
    OpenBLAS, fastconv's for ~50 us), and those spinning threads would otherwise take a core from
    whichever engine runs next (on small layers, for several of its calls).
    """
    for _ in range(warmup):
        for f in fns:
            f()
    times = [[] for _ in fns]
    t_start = time.perf_counter()
    r = 0
    while r * (block - 1) < reps or time.perf_counter() - t_start < min_time:
        for i, f in enumerate(fns):
            t_settle = time.perf_counter()
            f()
            while time.perf_counter() - t_settle < settle:
                f()
            for _ in range(block - 1):
                t = CLOCK()
                f()
                times[i].append(CLOCK() - t)
        r += 1
        if r * (block - 1) >= 20 * reps:
            break
    return [float(np.median(t)) for t in times]


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture", "threading_layer")}
                for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        return "threadpoolctl not installed"


def bench_gemm(shapes, reps, peak, rng):
    rows = []
    for label, (m, n, k) in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        c_np = np.empty((m, n), np.float32)
        fastconv.gemm(a, b, out=c)
        np.matmul(a, b, out=c_np)
        err = float(np.max(np.abs(c - c_np)) / (np.max(np.abs(c_np)) + 1e-30))
        flops = 2.0 * m * n * k
        r = max(3, min(reps, int(2e10 / flops) + 3))
        t_fc, t_np = interleaved_medians([lambda: fastconv.gemm(a, b, out=c), lambda: np.matmul(a, b, out=c_np)],
                                         r, min_time=0.3)
        rows.append(dict(shape=label, m=m, n=n, k=k, ms=t_fc * 1e3, numpy_ms=t_np * 1e3,
                         gflops=flops / t_fc * 1e-9, numpy_gflops=flops / t_np * 1e-9,
                         pct_peak=100 * flops / t_fc * 1e-9 / peak, ratio=t_np / t_fc, max_rel_diff=err))
    return rows


def time_conv_layer(layer, threads, reps, rng, relu=False, flop_budget=2e10, min_time=0.5, algo="auto"):
    """One layer on fresh He-scaled weights in fastconv (a ConvPlan) and onnxruntime (the same
    single-Conv model), interleaved: (fastconv's algorithm, fastconv s, onnxruntime s, max rel diff)."""
    x = rng.standard_normal(layer.x, dtype=np.float32)
    w = (rng.standard_normal(layer.w, dtype=np.float32) / np.sqrt(np.prod(layer.w[1:]))).astype(np.float32)
    bias = rng.standard_normal(layer.w[0], dtype=np.float32)
    plan = fastconv.ConvPlan(w, bias, stride=layer.stride, padding=layer.pad, groups=layer.groups,
                             activation="relu" if relu else None, algo=algo)
    sess = ort_session(onnx_conv_model(layer, w, bias, relu), threads)
    y = plan(x)
    y_ort = sess.run(None, {"x": x})[0]
    err = float(np.max(np.abs(y - y_ort)) / (np.max(np.abs(y_ort)) + 1e-30))
    out = np.empty_like(y)
    feed = {"x": x}
    r = max(5, min(reps, int(flop_budget / layer.flops) + 5))
    t_fc, t_ort = interleaved_medians([lambda: plan(x, out=out), lambda: sess.run(None, feed)], r, min_time=min_time)
    return plan.algo, t_fc, t_ort, err


def bench_conv(layers, reps, peak, threads, rng, no_winograd=False):
    rows = []
    for layer in layers:
        algo = "auto"
        if no_winograd:  # the best of the GEMM paths, as the cost model ranks them without Winograd
            plan = fastconv.ConvPlan(np.zeros(layer.w, np.float32), stride=layer.stride, padding=layer.pad,
                                     groups=layer.groups)
            if plan.algo_for(*layer.x[2:]).startswith("winograd"):
                gemm_paths = [a for a in plan.auto_candidates if not a.startswith("winograd")]
                algo = min(gemm_paths, key=lambda a: plan._plan.modelled_cost(a, *layer.x[2:]))
        algo, t_fc, t_ort, err = time_conv_layer(layer, threads, reps, rng, algo=algo)
        gf = layer.flops / t_fc * 1e-9
        rows.append(dict(layer=layer.name, algo=algo, ms=t_fc * 1e3, ort_ms=t_ort * 1e3, gflops=gf,
                         ort_gflops=layer.flops / t_ort * 1e-9, pct_peak=100 * gf / peak, ratio=t_ort / t_fc,
                         max_rel_diff=err))
    return rows


def markdown(rows, cols):
    head = "| " + " | ".join(h for h, _, _ in cols) + " |"
    sep = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(cols))) + "|"
    lines = [head, sep]
    for r in rows:
        lines.append("| " + " | ".join(fmt.format(r[key]) for _, key, fmt in cols) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=None, help="threads for both engines (default: fastconv's)")
    ap.add_argument("--reps", type=int, default=15, help="timed rounds per case (upper bound for big cases)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--only", choices=["gemm", "conv"], help="run one table only")
    ap.add_argument("--quick", action="store_true", help="skip 4096^3 (for iterating on a kernel)")
    ap.add_argument("--no-winograd", action="store_true",
                    help="run the 3x3 layers that auto sends to Winograd on im2col instead (issue 2's GEMM-path table)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time by the calling thread's CPU time (needs --threads 1: then every engine runs on the "
                         "calling thread, and time spent descheduled by other processes is not counted)")
    args = ap.parse_args(argv)
    if args.cpu_time:
        if args.threads != 1:
            ap.error("--cpu-time needs --threads 1 (other threads' work would not be counted)")
        global CLOCK
        CLOCK = time.thread_time

    threads = args.threads or fastconv.get_num_threads()
    fastconv.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads, user_api="blas")
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    peak = _C.measure_fma_peak(1.0, threads)
    import onnxruntime

    meta = dict(timing="thread_time" if args.cpu_time else "perf_counter", date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                machine=platform.processor() or platform.machine(), cpu=cpu_model(), threads=threads,
                isa=fastconv.get_isa(), gemm_kernel=_C.gemm_kernel(fastconv.get_isa()),
                fastconv=fastconv.__version__, numpy=np.__version__, onnxruntime=onnxruntime.__version__,
                blas=blas_info(), measured_peak_gflops=peak, load_avg=os.getloadavg())
    print(f"# fastconv benchmark — {meta['date']}\n")
    print(f"- CPU: {meta['cpu']}, threads: {threads}, ISA: {meta['isa']} ({meta['gemm_kernel']})")
    print(f"- measured fp32 FMA peak on {threads} thread(s): {peak:.1f} GFLOP/s")
    print(f"- numpy {np.__version__}, BLAS: {meta['blas']}")
    print(f"- onnxruntime {onnxruntime.__version__}; load average at start: {meta['load_avg']}")
    print(f"- timing: {'CPU time of the calling thread' if args.cpu_time else 'wall clock'}; medians, "
          "engines interleaved in each round\n")
    result = dict(meta=meta)

    if args.only in (None, "gemm"):
        sizes = [s for s in GEMM_SIZES if not (args.quick and s > 2048)]
        shapes = [(f"{s}^3", (s, s, s)) for s in sizes]
        shapes += [(f"im2col {l.name}", l.gemm_shape) for l in LAYERS if l.groups == 1]
        rows = bench_gemm(shapes, args.reps, peak, rng)
        result["gemm"] = rows
        print("## GEMM (C = A @ B, float32) vs numpy\n")
        print(markdown(rows, [("shape", "shape", "{}"), ("M", "m", "{}"), ("N", "n", "{}"), ("K", "k", "{}"),
                              ("fastconv ms", "ms", "{:.3f}"), ("numpy ms", "numpy_ms", "{:.3f}"),
                              ("fastconv GFLOP/s", "gflops", "{:.1f}"), ("numpy GFLOP/s", "numpy_gflops", "{:.1f}"),
                              ("% peak", "pct_peak", "{:.0f}%"), ("speed vs numpy", "ratio", "{:.2f}x")]))
        print()
    if args.only in (None, "conv"):
        rows = bench_conv(LAYERS, args.reps, peak, threads, rng, args.no_winograd)
        result["conv"] = rows
        print("## conv2d vs onnxruntime (same single-Conv model, same weights)\n")
        print(markdown(rows, [("layer", "layer", "{}"), ("algo", "algo", "{}"), ("fastconv ms", "ms", "{:.3f}"),
                              ("ort ms", "ort_ms", "{:.3f}"), ("fastconv GFLOP/s", "gflops", "{:.1f}"),
                              ("ort GFLOP/s", "ort_gflops", "{:.1f}"), ("% peak", "pct_peak", "{:.0f}%"),
                              ("speed vs ort", "ratio", "{:.2f}x"), ("max rel diff", "max_rel_diff", "{:.1e}")]))
        print()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()

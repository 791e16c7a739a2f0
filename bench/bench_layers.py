"""Memory-bound layer kernels vs this machine's copy bandwidth.

    python bench/bench_layers.py [--mib 64] [--repeats 15] [--threads 1 2]

Copy bandwidth is measured as numpy.copyto between two large float32 arrays (bytes read +
bytes written per second), in the same loop as the kernels. Each kernel's effective bandwidth is
(bytes it must read + bytes it must write) / median time, e.g. relu on n floats moves 8n bytes,
add 12n, 2x2/2 max pooling 4n + n. The table gives GB/s and the fraction of copy bandwidth.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import fastconv  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=64, help="input tensor size in MiB (>> L3 = 32 MiB)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="fastconv thread counts to run (numpy's copy is single-threaded)")
    args = ap.parse_args(argv)
    for threads in args.threads:
        fastconv.set_num_threads(threads)
        run(args)


def run(args):
    n_floats = args.mib * 2**20 // 4
    c, hw = 64, 112
    n = max(1, n_floats // (c * hw * hw))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, hw, hw), dtype=np.float32)
    b = rng.standard_normal(x.shape, dtype=np.float32)
    ch = rng.standard_normal((c, 1, 1), dtype=np.float32)
    p = [rng.uniform(0.5, 1.5, c).astype(np.float32) for _ in range(4)]
    dst = np.empty_like(x)
    pooled2 = np.empty(fastconv.pooling.pool2d_output_shape(x.shape, 2), np.float32)
    pooled3 = np.empty(fastconv.pooling.pool2d_output_shape(x.shape, 3, 2, 1), np.float32)
    gap = np.empty(x.shape[:2] + (1, 1), np.float32)
    sz = x.nbytes
    cases = {  # name: (callable, bytes moved)
        "numpy copy (reference)": (lambda: np.copyto(dst, x), 2 * sz),
        "relu": (lambda: fastconv.relu(x, out=dst), 2 * sz),
        "sigmoid": (lambda: fastconv.sigmoid(x, out=dst), 2 * sz),
        "batch_norm + relu": (lambda: fastconv.batch_norm(x, *p, activation="relu", out=dst), 2 * sz),
        "add (same shape) + relu": (lambda: fastconv.add(x, b, "relu", out=dst), 3 * sz),
        "add (C,1,1) broadcast": (lambda: fastconv.add(x, ch, out=dst), 2 * sz),
        "max_pool2d 2x2/2": (lambda: fastconv.max_pool2d(x, 2, out=pooled2), sz + sz // 4),
        "max_pool2d 3x3/2 pad 1": (lambda: fastconv.max_pool2d(x, 3, 2, 1, out=pooled3), sz + sz // 4),
        "avg_pool2d 3x3/1 pad 1": (lambda: fastconv.avg_pool2d(x, 3, 1, 1, out=dst), 2 * sz),
        "global_avg_pool2d": (lambda: fastconv.global_avg_pool2d(x, out=gap), sz),
    }
    times = {k: [] for k in cases}
    for fn, _ in cases.values():  # warm-up: page faults, scratch buffers
        fn()
    for _ in range(args.repeats):  # interleaved so that every kernel sees the same machine load
        for k, (fn, _) in cases.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    copy_bw = cases["numpy copy (reference)"][1] / statistics.median(times["numpy copy (reference)"]) / 1e9
    print(f"# input {x.shape} float32 = {sz / 2**20:.0f} MiB, {fastconv.get_num_threads()} threads, "
          f"{fastconv.get_isa()}; median of {args.repeats}")
    print("| kernel | ms | GB/s | of copy bandwidth |")
    print("|---|---:|---:|---:|")
    for k, (_, nbytes) in cases.items():
        t = statistics.median(times[k])
        bw = nbytes / t / 1e9
        print(f"| {k} | {t * 1e3:.2f} | {bw:.1f} | {bw / copy_bw:.0%} |")


if __name__ == "__main__":
    main()

"""The implicit-GEMM convolution against im2col (and im2col_t) on the same layers, in one process.

    python bench/bench_implicit.py [--threads 1] [--rounds 15]

Each round runs every algorithm once per layer, interleaved; medians of the rounds. With one
thread each call is timed by the calling thread's CPU time (robust to other processes on a shared
machine); with more, by the wall clock. Also checks that implicit and im2col agree.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fastconv  # noqa: E402

# name, batch, in channels, size, out channels, kernel, stride, padding
LAYERS = [
    ("3x3 56x56 64->64 (ResNet-50)", 1, 64, 56, 64, 3, 1, 1),
    ("3x3 56x56 64->64, batch 8", 8, 64, 56, 64, 3, 1, 1),
    ("11x11/4 227x227 3->96 (AlexNet)", 1, 3, 227, 96, 11, 4, 0),
    ("7x7/2 224x224 3->64 (ResNet stem)", 1, 3, 224, 64, 7, 2, 3),
    ("3x3/2 56x56 128->128", 1, 128, 56, 128, 3, 2, 1),
    ("3x3 14x14 256->256", 1, 256, 14, 256, 3, 1, 1),
    ("3x3 224x224 64->64 (VGG)", 1, 64, 224, 64, 3, 1, 1),
    ("3x3 28x28 512->512", 1, 512, 28, 512, 3, 1, 1),
]
ALGOS = ["im2col", "im2col_t", "implicit", "implicit_t"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    fastconv.set_num_threads(args.threads)
    clock = time.thread_time if args.threads == 1 else time.perf_counter
    rng = np.random.default_rng(0)
    print(f"# {args.threads} thread(s), {'thread CPU time' if args.threads == 1 else 'wall clock'}, "
          f"medians of {args.rounds} interleaved rounds, {fastconv._C.active_isa()}")
    print("| layer | auto picks | " + " | ".join(f"{a} ms" for a in ALGOS) + " | implicit vs im2col |")
    print("|---|---|" + "---:|" * (len(ALGOS) + 1))
    for name, n, c, h, k, ks, stride, pad in LAYERS:
        x = rng.standard_normal((n, c, h, h), dtype=np.float32)
        w = (rng.standard_normal((k, c, ks, ks)) * np.sqrt(2 / (c * ks * ks))).astype(np.float32)
        plans = {a: fastconv.ConvPlan(w, None, stride=stride, padding=pad, algo=a) for a in ALGOS}
        outs = {a: p(x) for a, p in plans.items()}  # warm-up: packs, allocates
        for a in ALGOS[1:]:
            np.testing.assert_allclose(outs[a], outs["im2col"], rtol=1e-4, atol=1e-4)
        times = {a: [] for a in ALGOS}
        with fastconv.workers_held():
            for _ in range(args.rounds):
                for a, p in plans.items():
                    t = clock()
                    p(x, out=outs[a])
                    times[a].append(clock() - t)
        med = {a: float(np.median(v)) for a, v in times.items()}
        auto = fastconv.ConvPlan(w, None, stride=stride, padding=pad).algo_for(h, h)
        print(f"| {name} | {auto} | " + " | ".join(f"{med[a] * 1e3:.3f}" for a in ALGOS)
              + f" | {med['im2col'] / med['implicit']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()

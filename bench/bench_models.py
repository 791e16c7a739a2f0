"""Whole-model latency: fastconv vs onnxruntime on the same architecture and weights, same process.

    python bench/bench_models.py                    # all five builders (+ resnet18), batch 1 and 8
    python bench/bench_models.py --models resnet50 --batches 1 --repeats 7

Each model is built by fastconv.models (seeded weights), exported to ONNX with onnx.helper
(bench/onnx_export.py) and run by onnxruntime with the same thread count. Runs of the two engines
alternate inside one loop after warm-up; medians are reported with the ratio ort/fastconv (> 1:
fastconv faster) and fastconv's GFLOP/s (multiply-add = 2 flops). The logits of the two engines are compared too:
max |fastconv - ort| / max |ort|.
Results go to stdout as a markdown table and to bench/results_models.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # bench/ and the repository (an in-place build) first

import fastconv  # noqa: E402
from fastconv import benchmark  # noqa: E402
from onnx_export import to_onnx  # noqa: E402

MODELS = ["alexnet", "vgg16", "vgg19", "googlenet", "resnet50", "resnet18"]


def ort_session(model, threads):
    return benchmark.ort_session(to_onnx(model).SerializeToString(), threads)


def bench_one(name, batch, warmup, repeats, threads):
    # Logits, not probabilities: with random weights the softmax saturates and would hide differences.
    model = getattr(fastconv.models, name)(classifier_activation=None)
    sess = ort_session(model, threads)
    in_name = sess.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal((batch,) + model.input_shape).astype(np.float32)
    y_fc, y_ort = model(x), sess.run(None, {in_name: x})[0]
    err = float(np.max(np.abs(y_fc - y_ort)) / np.max(np.abs(y_ort)))
    for _ in range(warmup):
        model(x)
        sess.run(None, {in_name: x})
    t_fc, t_ort = [], []
    for _ in range(repeats):  # interleaved: both engines see the same machine load
        t0 = time.perf_counter()
        model(x)
        t1 = time.perf_counter()
        sess.run(None, {in_name: x})
        t2 = time.perf_counter()
        t_fc.append(t1 - t0)
        t_ort.append(t2 - t1)
    fc_ms, ort_ms = statistics.median(t_fc) * 1e3, statistics.median(t_ort) * 1e3
    flops = model.count_flops() * batch
    return {"model": name, "batch": batch, "fastconv_ms": fc_ms, "onnxruntime_ms": ort_ms, "ratio": ort_ms / fc_ms,
            "fastconv_gflops": flops / fc_ms / 1e6, "max_rel_diff": err, "repeats": repeats}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results_models.json"))
    args = ap.parse_args(argv)
    threads = fastconv.get_num_threads()
    import onnxruntime as ort

    print(f"# fastconv {fastconv.__version__} ({fastconv.get_isa()}, {threads} threads) vs onnxruntime "
          f"{ort.__version__}, {platform.processor() or platform.machine()}")
    print("| model | batch | fastconv ms | onnxruntime ms | ort/fastconv | fastconv GFLOP/s | max diff / max abs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = []
    for name in args.models:
        for batch in args.batches:
            r = bench_one(name, batch, args.warmup, args.repeats, threads)
            rows.append(r)
            print(f"| {name} | {batch} | {r['fastconv_ms']:.1f} | {r['onnxruntime_ms']:.1f} | {r['ratio']:.2f} | "
                  f"{r['fastconv_gflops']:.1f} | {r['max_rel_diff']:.1e} |", flush=True)
    with open(args.out, "w") as f:
        json.dump({"threads": threads, "isa": fastconv.get_isa(), "onnxruntime": ort.__version__, "rows": rows}, f,
                  indent=1)


if __name__ == "__main__":
    main()

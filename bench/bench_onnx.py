"""ONNX models end to end: fastconv.InferenceSession vs onnxruntime (and OpenVINO FP32 when installed).

    python bench/bench_onnx.py                           # six models, batch 1 and 8, writes bench/RESULTS.md
    python bench/bench_onnx.py --models resnet50 --batches 1 --repeats 5 --no-write

Models: random-weight versions of the ONNX zoo CNNs (fastconv.onnx.zoo.random_weight_model, seeded),
identical bytes for every engine. All engines use the same thread count (default: every core this
process may run on). After warm-up the engines alternate inside one loop (so machine noise hits all of
them alike); medians are reported, with images/s, the speed ratio (ort time / fastconv time: > 1 means
fastconv is faster) and fastconv's GFLOP/s (conv + dense multiply-adds, 2 flops each). Model load time
is session creation from the serialized model (fastconv: parse + optimize + plan; onnxruntime: its
session creation with all graph optimizations), median of 3. Outputs are checked against onnxruntime.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository (an in-place build) first

import fastconv  # noqa: E402
from fastconv import benchmark  # noqa: E402
from fastconv.onnx import zoo  # noqa: E402

MODELS = ["alexnet", "vgg19", "resnet50", "googlenet", "squeezenet", "densenet121"]
BEGIN, END = "<!-- bench_onnx:begin -->", "<!-- bench_onnx:end -->"


def model_flops(model, batch: int) -> float:
    """Multiply-adds x 2 of every Conv and Gemm/MatMul, from ONNX shape inference at this batch."""
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(model)
    for v in m.graph.input:
        v.type.tensor_type.shape.dim[0].dim_value = batch
    m = onnx.shape_inference.infer_shapes(m)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input)}
    weights = {t.name: list(t.dims) for t in m.graph.initializer}
    total = 0.0
    for n in m.graph.node:
        if n.op_type == "Conv" and n.output[0] in shapes and n.input[1] in weights:
            w = weights[n.input[1]]
            total += 2.0 * np.prod(shapes[n.output[0]], dtype=np.float64) * np.prod(w[1:], dtype=np.float64)
        elif n.op_type in ("Gemm", "MatMul") and n.input[1] in weights and n.output[0] in shapes:
            w = weights[n.input[1]]
            k = w[1] if n.op_type == "Gemm" and any(a.name == "transB" and a.i for a in n.attribute) else w[0]
            total += 2.0 * np.prod(shapes[n.output[0]], dtype=np.float64) * k
    return total


def ort_session(data: bytes, threads: int, spinning: str = "in-run"):
    return benchmark.ort_session(data, threads, spinning)


def openvino_runner(data: bytes, threads: int):
    """A callable feeds -> outputs on OpenVINO's CPU plugin with FP32 precision, or None if not installed."""
    try:
        import openvino as ov
    except ImportError:
        return None
    core = ov.Core()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        with open(path, "wb") as f:
            f.write(data)
        compiled = core.compile_model(core.read_model(path), "CPU", {
            "INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()

    def run(feeds):
        request.infer(feeds)
        return [request.get_output_tensor(i).data.copy() for i in range(len(compiled.outputs))]

    return run


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_model(name: str, batches, repeats: int, threads: int, use_openvino: bool, spinning: str) -> list[dict]:
    model = zoo.random_weight_model(name, seed=0)
    data = model.SerializeToString()
    load_fc = statistics.median(timed(lambda: fastconv.InferenceSession(data)) for _ in range(3))
    load_ort = statistics.median(timed(lambda: ort_session(data, threads, spinning)) for _ in range(3))
    ours, theirs = fastconv.InferenceSession(data), ort_session(data, threads, spinning)
    ov = openvino_runner(data, threads) if use_openvino else None
    rows = []
    for batch in batches:
        feeds = zoo.random_input(model, batch, seed=batch)
        engines = {"fastconv": lambda: ours.run(None, feeds), "onnxruntime": lambda: theirs.run(None, feeds)}
        if ov is not None:
            engines["openvino"] = lambda: ov(feeds)
        want = theirs.run(None, feeds)[0]
        got = ours.run(None, feeds)[0]
        err = float(np.linalg.norm(got.astype(np.float64) - want) / np.linalg.norm(want))
        for fn in engines.values():  # warm-up: plans, packing, caches
            fn()
            fn()
        times = {k: [] for k in engines}
        core_before = benchmark.core_latency()
        for _ in range(repeats):
            for k, fn in engines.items():
                times[k].append(timed(fn))
        core = (core_before, benchmark.core_latency())
        med = {k: statistics.median(v) for k, v in times.items()}
        flops = model_flops(model, batch)
        row = {"model": name, "batch": batch, "rel_err": err, "load_fastconv_s": load_fc, "load_ort_s": load_ort,
               "gflops": flops / med["fastconv"] / 1e9, **{f"{k}_ms": v * 1e3 for k, v in med.items()},
               "core_ns": "/".join("-" if c is None else f"{c:.0f}" for c in core)}
        row["speedup_vs_ort"] = med["onnxruntime"] / med["fastconv"]
        if "openvino" in med:
            row["speedup_vs_openvino"] = med["openvino"] / med["fastconv"]
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


HEADER = ("| model | batch | fastconv ms | onnxruntime ms | OpenVINO ms | fastconv img/s | ort img/s | "
          "vs ort | vs OpenVINO | fastconv GFLOP/s | load fastconv / ort (s) | rel. L2 err | core ns |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def format_row(r: dict) -> str:
    ov = f"{r['openvino_ms']:.1f}" if "openvino_ms" in r else "-"
    ovs = f"{r['speedup_vs_openvino']:.2f}x" if "speedup_vs_openvino" in r else "-"
    return (f"| {r['model']} | {r['batch']} | {r['fastconv_ms']:.1f} | {r['onnxruntime_ms']:.1f} | {ov} | "
            f"{1e3 * r['batch'] / r['fastconv_ms']:.1f} | {1e3 * r['batch'] / r['onnxruntime_ms']:.1f} | "
            f"{r['speedup_vs_ort']:.2f}x | {ovs} | {r['gflops']:.0f} | "
            f"{r['load_fastconv_s']:.2f} / {r['load_ort_s']:.2f} | {r['rel_err']:.1e} | {r['core_ns']} |")


def write_results(rows, threads: int, repeats: int, spinning: str, path: str) -> None:
    import onnxruntime

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [BEGIN, "## ONNX models: fastconv.InferenceSession vs onnxruntime", "",
             f"`python bench/bench_onnx.py` on {cpu}, {threads} threads, median of {repeats} interleaved runs "
             f"after warm-up; fastconv {fastconv.__version__} (ISA {fastconv.get_isa()}), onnxruntime "
             f"{onnxruntime.__version__} (intra-op spinning: {spinning}). Random-weight zoo "
             "models (fastconv.onnx.zoo). 'vs ort' = onnxruntime "
             "time / fastconv time (> 1: fastconv faster). Load = session creation from bytes. Core ns = "
             "core-to-core round trip before/after the row's runs (fastconv.benchmark.core_latency: ~60-80 ns "
             "one die, ~330-380 ns two dies).", "", HEADER]
    lines += [format_row(r) for r in rows]
    lines.append(END)
    section = "\n".join(lines) + "\n"
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n\n"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END) + "\n?", lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=MODELS, choices=sorted(zoo.MODELS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--no-openvino", action="store_true")
    p.add_argument("--ort-spinning", choices=["in-run", "always", "off"], default="in-run",
                   help="onnxruntime's thread spinning (fastconv.benchmark.ort_session): in-run (default) spins "
                        "during its runs only; always keeps idle threads spinning after a run, taking the cores "
                        "fastconv runs on next")
    p.add_argument("--no-write", action="store_true", help="print only; do not update bench/RESULTS.md")
    args = p.parse_args(argv)
    fastconv.set_num_threads(args.threads)
    print(HEADER)
    rows = []
    for name in args.models:
        rows += bench_model(name, args.batches, args.repeats, args.threads, not args.no_openvino, args.ort_spinning)
    if not args.no_write:
        write_results(rows, args.threads, args.repeats, args.ort_spinning, os.path.join(HERE, "RESULTS.md"))


if __name__ == "__main__":
    main()

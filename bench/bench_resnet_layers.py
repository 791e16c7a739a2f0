"""Every distinct conv layer of ResNet-50 (or --model, any zoo model's ungrouped convs): fastconv's
ConvPlan vs onnxruntime, one layer at a time.

    python bench/bench_resnet_layers.py                # 2 threads, batch 1
    python bench/bench_resnet_layers.py --batch 8 --threads 2
    python bench/bench_resnet_layers.py --model squeezenet

The layer shapes (and their fused activation) come from the zoo model itself, so the table
covers exactly what `python -m fastconv info resnet50` lists. Each layer runs interleaved
with onnxruntime on the same single-Conv ONNX model (same weights, bias; Relu appended when
fastconv fuses one), medians after warm-up. Rows are sorted by the time lost against
onnxruntime, times the number of times the layer occurs in the model, so the top rows are
the ones worth fixing.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # the in-place build of this checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fastconv  # noqa: E402
from bench_conv import markdown, time_conv_layer  # noqa: E402
from layers import Layer  # noqa: E402


def model_layers(batch: int, model_name: str = "resnet50"):
    """(Layer, relu fused, occurrences) for each distinct ungrouped conv of a zoo model."""
    import onnx
    from onnx import shape_inference
    from fastconv.onnx.zoo import random_weight_model

    model = shape_inference.infer_shapes(random_weight_model(model_name, batch=batch))
    g = model.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(g.value_info) + list(g.input) + list(g.output)}
    inits = {t.name: tuple(t.dims) for t in g.initializer}
    consumers = Counter()
    for n in g.node:
        for i in n.input:
            consumers[i] += 1
    relu_after = {n.input[0] for n in g.node if n.op_type == "Relu"}
    found = Counter()
    for n in g.node:
        if n.op_type != "Conv":
            continue
        a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
        if a.get("group", 1) != 1:
            continue  # the single-Conv models here are ungrouped
        w = inits[n.input[1]]
        stride = a.get("strides", [1, 1])[0]
        pad = a.get("pads", [0, 0, 0, 0])[0]
        x = tuple(shapes[n.input[0]])
        relu = n.output[0] in relu_after and consumers[n.output[0]] == 1
        name = f"{w[2]}x{w[3]}/{stride} {x[2]}x{x[3]} {x[1]}->{w[0]}"
        found[(Layer(name, x, w, stride, pad), relu)] += 1
    return [(layer, relu, count) for (layer, relu), count in found.items()]


def bench(batch: int, threads: int, reps: int, only: str | None, model_name: str = "resnet50"):
    rng = np.random.default_rng(0)
    rows = []
    for layer, relu, count in model_layers(batch, model_name):
        if only and only not in layer.name:
            continue
        algo, t_fc, t_ort, err = time_conv_layer(layer, threads, reps, rng, relu, flop_budget=2e9, min_time=0.3)
        rows.append(dict(layer=layer.name + (" +relu" if relu else ""), count=count, algo=algo,
                         ms=t_fc * 1e3, ort_ms=t_ort * 1e3, ratio=t_ort / t_fc,
                         gflops=layer.flops / t_fc * 1e-9, lost_ms=count * (t_fc - t_ort) * 1e3,
                         max_rel_diff=err))
    rows.sort(key=lambda r: -r["lost_ms"])
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--only", default=None, help="only layers whose name contains this")
    ap.add_argument("--model", default="resnet50", help="any fastconv.onnx.zoo model (its ungrouped convs)")
    args = ap.parse_args(argv)
    fastconv.set_num_threads(args.threads)
    rows = bench(args.batch, args.threads, args.reps, args.only, args.model)
    print(f"{args.model} conv layers, batch {args.batch}, {args.threads} threads "
          "(lost = count x (fastconv - onnxruntime) ms; ratio > 1: fastconv faster)\n")
    print(markdown(rows, [("layer", "layer", "{}"), ("count", "count", "{}"), ("algo", "algo", "{}"),
                          ("fastconv ms", "ms", "{:.3f}"), ("ort ms", "ort_ms", "{:.3f}"),
                          ("ratio", "ratio", "{:.2f}"), ("GFLOP/s", "gflops", "{:.1f}"),
                          ("lost ms", "lost_ms", "{:+.3f}"), ("max rel diff", "max_rel_diff", "{:.1e}")]))
    tot_fc = sum(r["count"] * r["ms"] for r in rows)
    tot_ort = sum(r["count"] * r["ort_ms"] for r in rows)
    print(f"\nall convs: fastconv {tot_fc:.2f} ms, onnxruntime {tot_ort:.2f} ms, ratio {tot_ort / tot_fc:.2f}")


if __name__ == "__main__":
    main()

"""Where a whole model's time goes, inside the model: fastconv's kernels vs onnxruntime's nodes.

    python bench/bench_inmodel.py --model resnet50 --threads 2
    python bench/bench_inmodel.py --model squeezenet --threads 1 --runs 50

Both engines run the same random-weight zoo model in one process, alternating run by run.
fastconv runs node by node (no recorded program) with every kernel call timed; onnxruntime
reports its own per-node kernel times (its profiler). Medians per node over the runs.

Why this and not bench_resnet_layers.py: a layer run alone is hot in cache (its weights, input
and output stay in L2/L3 from the last call), and onnxruntime run on one Conv pays reorders to
and from its blocked NCHWc layout that it does not pay inside a model. Inside a model every
layer's weights come from memory and its input from the previous layer, so only this table
says which layers lose, and by how much.

Convolutions are matched by weight and output sizes (layout-free: onnxruntime reports its
blocked shapes), in graph order within each size; rows are sorted by time lost.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the in-place build

import fastconv  # noqa: E402
from fastconv.onnx import session as _session  # noqa: E402
from fastconv.onnx import zoo  # noqa: E402


def fastconv_node_times(model_bytes, x, runs, between):
    """Per node of the optimized graph: (op, weight shape, output shape, median seconds)."""
    _session.REPLAY = False  # node by node, so that each kernel call can be timed
    try:
        sess = fastconv.InferenceSession(model_bytes)
        name = sess.get_inputs()[0].name
        for _ in range(3):
            sess.run(None, {name: x})
        plan = next(iter(sess._plans.values()))
        graph, kernels = plan.graph, plan.kernels
        times = collections.defaultdict(list)
        shapes = {}

        def timed(i, k):
            def run(*args, **kwargs):
                t = time.perf_counter()
                r = k(*args, **kwargs)
                times[i].append(time.perf_counter() - t)
                if i not in shapes:
                    y = r[0] if isinstance(r, tuple) else r
                    shapes[i] = (getattr(args[1], "shape", None) if len(args) > 1 else None, np.shape(y))
                return r
            run.accepts_out = getattr(k, "accepts_out", False)
            return run

        plan.kernels = [timed(i, k) for i, k in enumerate(kernels)]
        for _ in range(runs):
            sess.run(None, {name: x})
            between()
    finally:
        _session.REPLAY = True
    return [(graph.nodes[i].op,) + shapes[i] + (float(np.median(v)),) for i, v in sorted(times.items())]


def ort_node_times(profile_file, runs):
    events = json.load(open(profile_file))
    times, info, order = collections.defaultdict(list), {}, []
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        n, a = e["name"][: -len("_kernel_time")], e["args"]
        times[n].append(e["dur"] * 1e-6)
        if n not in info:
            shapes = [list(s.values())[0] for s in a.get("input_type_shape", [])]
            out = [list(s.values())[0] for s in a.get("output_type_shape", [])]
            info[n] = (a.get("op_name"), shapes[1] if len(shapes) > 1 else None, out[0] if out else None)
            order.append(n)
    return [info[n] + (float(np.median(times[n][-runs:])),) for n in order]


def size_key(weight, out):
    return (int(np.prod(weight)) if weight is not None else 0, int(np.prod(out)) if out is not None else 0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="resnet50", choices=sorted(zoo.MODELS))
    ap.add_argument("--threads", type=int, default=fastconv.get_num_threads())
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args(argv)
    import onnxruntime as ort

    fastconv.set_num_threads(args.threads)
    model_bytes = zoo.random_weight_model(args.model, batch=args.batch).SerializeToString()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = args.threads, 1
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.force_spinning_stop", "1")
    opts.enable_profiling = True
    opts.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort")
    osess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    iname = osess.get_inputs()[0]
    x = np.random.default_rng(0).standard_normal([args.batch] + list(iname.shape[1:])).astype(np.float32)
    for _ in range(3):
        osess.run(None, {iname.name: x})
    ours = fastconv_node_times(model_bytes, x, args.runs, lambda: osess.run(None, {iname.name: x}))
    theirs = ort_node_times(osess.end_profiling(), args.runs)

    print(f"# {args.model}, batch {args.batch}, {args.threads} threads, in-model kernel times (medians of {args.runs} "
          f"runs, engines alternating)\n")
    by_op = collections.defaultdict(lambda: [0.0, 0.0])
    for op, _, _, t in ours:
        by_op[op][0] += t
    for op, _, _, t in theirs:
        by_op[op][1] += t
    print("| op | fastconv ms | onnxruntime ms |\n|---|---:|---:|")
    for op, (a, b) in sorted(by_op.items(), key=lambda kv: -max(kv[1])):
        print(f"| {op} | {a * 1e3:.3f} | {b * 1e3:.3f} |")
    print(f"| all | {sum(v[0] for v in by_op.values()) * 1e3:.3f} | {sum(v[1] for v in by_op.values()) * 1e3:.3f} |\n")

    theirs_by_key = collections.defaultdict(list)
    for op, w, y, t in theirs:
        if op == "Conv":
            theirs_by_key[size_key(w, y)].append(t)
    groups = collections.defaultdict(lambda: [0, 0.0, 0.0])  # count, fastconv s, onnxruntime s
    unmatched = 0.0
    for op, w, y, t in ours:
        if op != "Conv":
            continue
        key = size_key(w, y)
        if not theirs_by_key[key]:
            unmatched += t
            continue
        g = groups[(tuple(w), tuple(y))]
        g[0], g[1], g[2] = g[0] + 1, g[1] + t, g[2] + theirs_by_key[key].pop(0)
    rows = sorted(groups.items(), key=lambda kv: -(kv[1][1] - kv[1][2]))
    print("| weight | output | count | fastconv ms | onnxruntime ms | ratio | lost ms |\n|---|---|---:|---:|---:|---:|---:|")
    for (w, y), (count, a, b) in rows:
        print(f"| {'x'.join(map(str, w))} | {'x'.join(map(str, y))} | {count} | {a * 1e3:.3f} | {b * 1e3:.3f} | "
              f"{b / a:.2f} | {(a - b) * 1e3:+.3f} |")
    left = sum(sum(v) for v in theirs_by_key.values())
    if unmatched or left:
        print(f"\nunmatched convolutions: fastconv {unmatched * 1e3:.3f} ms, onnxruntime {left * 1e3:.3f} ms "
              "(channels padded to its block size)")


if __name__ == "__main__":
    main()

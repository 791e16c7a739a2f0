"""Benchmark harness shared by `fastconv bench` and the scripts in bench/.

Method: every runtime gets the same model bytes and the same input; each is warmed up, then timed
`repeats` times, and runtimes are interleaved inside one loop (fastconv, peer, fastconv, peer...)
so that load from other processes hits them alike. We report the median and the minimum latency,
images/s, GFLOP/s (FLOPs = 2 x multiply-adds of Conv/Gemm/MatMul), the fraction of the machine's
measured fp32 peak, and the ratio of each peer's median to fastconv's (> 1: fastconv is faster).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import _models

PEERS = {  # name -> the one line that says how to get it
    "onnxruntime": 'pip install onnxruntime   (or: pip install "fastconv[bench]")',
    "openvino": 'pip install openvino   (or: pip install "fastconv[bench]")',
}


class PeerUnavailable(RuntimeError):
    """A peer runtime is not installed or cannot run the model; the message says why."""


# -- timing ---------------------------------------------------------------------------------------
def time_once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(fn, warmup: int = 2, repeats: int = 10) -> list[float]:
    """Seconds per call of fn over `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    return [time_once(fn) for _ in range(repeats)]


def progress(iterable, total: int | None = None, desc: str = "", enabled: bool = True):
    """tqdm's bar on stderr when tqdm is installed, else one line per step; nothing when disabled."""
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return _plain_progress(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)


def _plain_progress(iterable, total, desc):
    for i, item in enumerate(iterable):
        print(f"\r{desc} {i + 1}/{total if total is not None else '?'}", end="", file=sys.stderr, flush=True)
        yield item
    print(file=sys.stderr)


# -- the machine ----------------------------------------------------------------------------------
def machine_peak(threads: int | None = None) -> tuple[float, str]:
    """(GFLOP/s, what it is): the engine's measured fp32 FMA peak when this build has it, else
    the best of a few timed large fastconv.gemm calls (a lower bound, labelled as such)."""
    from . import _C, gemm

    threads = threads or _C.num_threads()
    if hasattr(_C, "measure_fma_peak"):
        return float(_C.measure_fma_peak(0.3, threads)), f"measured FMA peak, {threads} threads"
    n = 1536
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    best = min(measure(lambda: gemm(a, b), warmup=1, repeats=5))
    return 2.0 * n**3 / best / 1e9, f"measured GEMM peak ({n}^3 fastconv.gemm), {threads} threads"


def core_latency() -> float | None:
    """Round trip in ns of a cache line between two of this process's CPUs (None with fewer than two).

    On shared cloud machines two vCPUs may share a die (one L3: ~60-80 ns here) or not (~330-380 ns),
    changing every few seconds to minutes; multi-threaded results depend on which (bench/RESULTS.md),
    so the benchmarks report it beside their tables."""
    from . import _C

    ns = float(_C.measure_core_latency(0.1)) if hasattr(_C, "measure_core_latency") else 0.0
    return ns or None


def core_latency_line(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "core-to-core round trip: not measured (fewer than two CPUs)"
    return (f"core-to-core round trip: {before:.0f} ns before, {after:.0f} ns after the runs (~60-80 ns: the "
            "threads' cores share a die; ~330-380 ns: two dies, where multi-threaded times rise)")


def machine_info() -> dict:
    from . import _C

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "isa": _C.active_isa(), "python": platform.python_version()}


# -- runtimes -------------------------------------------------------------------------------------
class Runtime:
    """One way of running a model: name, and a callable taking the input array."""

    def __init__(self, name: str, run, version: str = ""):
        self.name, self.run, self.version = name, run, version


def fastconv_runtime(model_bytes: bytes, input_name: str, threads: int) -> Runtime:
    import fastconv

    fastconv.set_num_threads(threads)
    sess = _models.session(model_bytes)
    return Runtime("fastconv", lambda x: sess.run(None, {input_name: x}), fastconv.__version__)


def ort_session(model_bytes: bytes, threads: int, spinning: str = "in-run"):
    """An onnxruntime CPU session on `threads` threads, set up as every benchmark here compares with.

    spinning: "in-run" (default) lets its threads spin while a run is in progress, its fastest
    setting, and stops them when the run returns (session.force_spinning_stop); "always" is
    onnxruntime's default, where idle threads keep spinning after a run and, on a machine with
    few cores, take them from whatever runs next (measured: fastconv's GoogLeNet 16.5 -> 31.9 ms
    when interleaved with it); "off" never spins (onnxruntime's own small-op latency suffers).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only: the zoo files carry unused initializers ort warns about
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if spinning == "in-run":
        opts.add_session_config_entry("session.force_spinning_stop", "1")
    elif spinning == "off":
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    elif spinning != "always":
        raise ValueError(f"spinning must be 'in-run', 'always' or 'off', got {spinning!r}")
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def peer_runtime(name: str, model_bytes: bytes, input_name: str, threads: int) -> Runtime:
    """A peer runtime on `threads` threads, or PeerUnavailable with the install line."""
    if name == "onnxruntime":
        try:
            import onnxruntime as ort
        except ImportError:
            raise PeerUnavailable(f"onnxruntime is not installed: {PEERS[name]}") from None
        sess = ort_session(model_bytes, threads)
        return Runtime(name, lambda x: sess.run(None, {input_name: x}), ort.__version__)
    if name == "openvino":
        try:
            import openvino as ov
        except ImportError:
            raise PeerUnavailable(f"openvino is not installed: {PEERS[name]}") from None
        core = ov.Core()
        with tempfile.TemporaryDirectory() as tmp:  # read_model wants a file for ONNX
            path = os.path.join(tmp, "model.onnx")
            with open(path, "wb") as f:
                f.write(model_bytes)
            model = core.read_model(path)
        # f32 explicitly: on CPUs with bf16 support OpenVINO may otherwise compute in bf16.
        compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": threads,
                                                     "INFERENCE_PRECISION_HINT": "f32",
                                                     "PERFORMANCE_HINT": "LATENCY"})
        request = compiled.create_infer_request()
        return Runtime(name, lambda x: request.infer({0: x}), ov.__version__)
    raise PeerUnavailable(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")


# -- one benchmark --------------------------------------------------------------------------------
@dataclass
class Result:
    model: str
    batch: int
    runtime: str
    version: str
    median_ms: float
    min_ms: float
    images_per_s: float
    gflops: float
    peak_pct: float
    ratio: float | None = None  # peer median / fastconv median (> 1: fastconv faster)
    max_abs_diff: float | None = None  # largest output difference to fastconv's
    gflop_per_image: float = 0.0
    samples_ms: list = field(default_factory=list)


def bench_model(name: str, model, batch: int, threads: int, peers=(), warmup: int = 2, repeats: int = 10,
                peak_gflops: float | None = None, show_progress: bool = True, notes: list | None = None) -> list:
    """Times fastconv and each peer on `model` (ModelProto) at `batch`, interleaved; a Result each."""
    model = _models.with_batch(model, batch)
    inputs = _models.graph_inputs(model)
    if len(inputs) != 1:
        raise _models.ModelError(f"{name} has {len(inputs)} inputs; bench feeds models with one image input")
    shape = tuple(d if isinstance(d, int) and d > 0 else 1 for d in inputs[0].shape)
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    flops = _models.summarize(model, algorithms=False).flops
    data = model.SerializeToString()
    runtimes = [fastconv_runtime(data, inputs[0].name, threads)]
    for peer in peers:
        try:
            runtimes.append(peer_runtime(peer, data, inputs[0].name, threads))
        except PeerUnavailable as e:
            if notes is not None and str(e) not in notes:
                notes.append(str(e))
    outputs = {}
    for rt in runtimes:  # warm-up, and the outputs to compare
        for _ in range(warmup):
            out = rt.run(x)
        outputs[rt.name] = np.asarray(out[0] if isinstance(out, (list, tuple)) else next(iter(out.values())))
    samples = {rt.name: [] for rt in runtimes}
    steps = progress(range(repeats), total=repeats, desc=f"{name} batch {batch}", enabled=show_progress)
    for _ in steps:
        for rt in runtimes:
            samples[rt.name].append(time_once(lambda: rt.run(x)))
    ours = statistics.median(samples["fastconv"])
    results = []
    for rt in runtimes:
        med, best = statistics.median(samples[rt.name]), min(samples[rt.name])
        gflops = flops / med / 1e9
        diff = float(np.max(np.abs(outputs[rt.name].astype(np.float64) - outputs["fastconv"]))) \
            if outputs[rt.name].shape == outputs["fastconv"].shape else float("nan")
        results.append(Result(name, batch, rt.name, rt.version, med * 1e3, best * 1e3, batch / med, gflops,
                              100.0 * gflops / peak_gflops if peak_gflops else float("nan"),
                              None if rt.name == "fastconv" else med / ours,
                              None if rt.name == "fastconv" else diff, flops / batch / 1e9,
                              [s * 1e3 for s in samples[rt.name]]))
    return results


# -- reporting ------------------------------------------------------------------------------------
def format_table(results, peak=None) -> str:
    head = f"{'model':<12}{'batch':>6}  {'runtime':<12}{'median ms':>10}{'min ms':>9}{'img/s':>9}" \
           f"{'GFLOP/s':>9}{'% peak':>8}{'vs fastconv':>13}{'max |diff|':>12}"
    lines = [head, "-" * len(head)]
    for r in results:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
        lines.append(f"{r.model:<12}{r.batch:>6}  {r.runtime:<12}{r.median_ms:>10.2f}{r.min_ms:>9.2f}"
                     f"{r.images_per_s:>9.1f}{r.gflops:>9.1f}{r.peak_pct:>7.1f}%{ratio:>13}{diff:>12}")
    if peak:
        lines.append(f"peak: {peak[0]:.1f} GFLOP/s ({peak[1]}); 'vs fastconv' = peer median / fastconv median "
                     "(above 1: fastconv is faster); max |diff| = largest output difference to fastconv's")
    return "\n".join(lines)


def to_json(results, peak, threads: int) -> dict:
    return {"machine": machine_info(), "threads": threads,
            "peak_gflops": peak[0], "peak_kind": peak[1],
            "results": [asdict(r) for r in results]}


def write_json(path, results, peak, threads: int) -> None:
    with open(path, "w") as f:
        json.dump(to_json(results, peak, threads), f, indent=2)


def plot(results, path) -> None:
    """Bar chart of images/s: one panel per model (their scales differ by 100x), a group per batch,
    a bar per runtime (matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('--plot needs matplotlib: pip install matplotlib (or "fastconv[bench]")') from None
    models = list(dict.fromkeys(r.model for r in results))
    runtimes = list(dict.fromkeys(r.runtime for r in results))
    width = 0.8 / len(runtimes)
    fig, axes = plt.subplots(1, len(models), figsize=(max(4, 3.2 * len(models)), 3.8), squeeze=False)
    for ax, model in zip(axes[0], models):
        batches = list(dict.fromkeys(r.batch for r in results if r.model == model))
        for i, rt in enumerate(runtimes):
            vals = [next((r.images_per_s for r in results if (r.model, r.batch, r.runtime) == (model, b, rt)), 0.0)
                    for b in batches]
            ax.bar([j + i * width for j in range(len(batches))], vals, width, label=rt, color=f"C{i}")
        ax.set_xticks([j + width * (len(runtimes) - 1) / 2 for j in range(len(batches))])
        ax.set_xticklabels([f"batch {b}" for b in batches])
        ax.set_title(model)
    axes[0][0].set_ylabel("images / s (higher is better)")
    axes[0][-1].legend(fontsize="small")
    fig.suptitle("fastconv vs peers, fp32 CPU inference")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

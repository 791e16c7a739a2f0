"""pytest-benchmark suite for the issue-2 workload: each layer (and GEMM size) twice,
fastconv and its peer, in one group so the report shows them side by side.

    pytest bench/test_bench_conv.py --benchmark-group-by=group --benchmark-columns=median,ops

Not collected by the default `pytest` run (testpaths = tests/). For the ratio table with
GFLOP/s and % of measured peak, run bench/bench_conv.py instead.
"""
import os
import sys

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # see bench_conv.py
    os.environ.pop(_var, None)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastconv  # noqa: E402
from layers import GEMM_SIZES, LAYERS, onnx_conv_model, ort_session  # noqa: E402

THREADS = fastconv.get_num_threads()


@pytest.fixture(scope="module", params=LAYERS, ids=[l.name.replace(" ", "_") for l in LAYERS])
def layer_case(request):
    layer = request.param
    rng = np.random.default_rng(0)
    x = rng.standard_normal(layer.x, dtype=np.float32)
    w = (rng.standard_normal(layer.w, dtype=np.float32) / np.sqrt(np.prod(layer.w[1:]))).astype(np.float32)
    b = rng.standard_normal(layer.w[0], dtype=np.float32)
    return layer, x, w, b


def test_conv_fastconv(benchmark, layer_case):
    layer, x, w, b = layer_case
    plan = fastconv.ConvPlan(w, b, stride=layer.stride, padding=layer.pad, groups=layer.groups)
    out = plan(x)
    benchmark.group = layer.name
    benchmark.extra_info.update(gflop=layer.flops * 1e-9, algo=plan.algo)
    benchmark(plan, x, out=out)


def test_conv_onnxruntime(benchmark, layer_case):
    pytest.importorskip("onnxruntime", reason="onnxruntime (bench extra) not installed")
    layer, x, w, b = layer_case
    sess = ort_session(onnx_conv_model(layer, w, b), THREADS)
    feed = {"x": x}
    sess.run(None, feed)
    benchmark.group = layer.name
    benchmark.extra_info.update(gflop=layer.flops * 1e-9)
    benchmark(sess.run, None, feed)


@pytest.fixture(scope="module", params=GEMM_SIZES, ids=[f"{s}^3" for s in GEMM_SIZES])
def gemm_case(request):
    s = request.param
    rng = np.random.default_rng(0)
    return s, rng.standard_normal((s, s), dtype=np.float32), rng.standard_normal((s, s), dtype=np.float32)


def test_gemm_fastconv(benchmark, gemm_case):
    s, a, b = gemm_case
    out = np.empty((s, s), np.float32)
    benchmark.group = f"gemm {s}^3"
    benchmark.extra_info.update(gflop=2e-9 * s ** 3)
    benchmark(fastconv.gemm, a, b, out=out)


def test_gemm_numpy(benchmark, gemm_case):
    s, a, b = gemm_case
    out = np.empty((s, s), np.float32)
    benchmark.group = f"gemm {s}^3"
    benchmark.extra_info.update(gflop=2e-9 * s ** 3)
    benchmark(np.matmul, a, b, out=out)

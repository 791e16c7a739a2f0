#!/usr/bin/env bash
# The GPU check in one command, for a machine with an NVIDIA GPU (CuPy, PyTorch and cuDNN already
# installed): builds the CPU engine (the reference), runs tests/gpu (every kernel vs the CPU engine)
# and the NVRTC compile tests, then bench/bench_gpu.py (correctness table, conv layers, ResNet-50 /
# VGG-19 at batch 1 and 64, pooling/BN/activation bandwidth, side by side with cuDNN via PyTorch).
#
#   bash bench/gpu_check.sh            # full run (~5 min on an H100)
#   bash bench/gpu_check.sh --quick    # fewer repeats, batch 1 networks only
#
# Installs nothing system-wide. Build/test tools missing on the GPU machine (pybind11, pytest,
# hypothesis) are taken from wheels carried in bench/wheels/ if present, installed into
# build/gpu_deps only. Prepare them on a development machine with:
#   pip download pybind11 pytest hypothesis iniconfig pluggy packaging sortedcontainers attrs \
#       --only-binary=:all: --no-deps -d bench/wheels
# The benchmark's markdown tables are also written to build/gpu_results.md for bench/RESULTS.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
$PY - <<'PYEOF'
import importlib, sys
print("python", sys.version.split()[0])
for m in ("numpy", "cupy", "torch", "pybind11", "pytest", "hypothesis", "onnxruntime"):
    try:
        print(f"  {m:12s}", getattr(importlib.import_module(m), "__version__", "?"))
    except Exception as e:
        print(f"  {m:12s} missing ({type(e).__name__})")
PYEOF

missing=$($PY -c "
import importlib.util as u
print(' '.join(m for m in ('pybind11', 'pytest', 'hypothesis') if u.find_spec(m) is None))")
if [ -n "$missing" ]; then
  if ls bench/wheels/*.whl >/dev/null 2>&1; then
    echo "== installing carried wheels for: $missing (into build/gpu_deps)"
    $PY -m pip install -q --no-index --find-links bench/wheels --target build/gpu_deps $missing \
      || echo "   (some carried wheels did not install)"
    export PYTHONPATH="$PWD/build/gpu_deps${PYTHONPATH:+:$PYTHONPATH}"
  else
    echo "== missing here: $missing (no bench/wheels/ to install them from)"
  fi
fi

echo "== build (CPU engine, the reference)"
if ! $PY -c "import fastconv._C" 2>/dev/null; then
  $PY setup.py build_ext --inplace 2>&1 | tail -2
fi
$PY -c "import fastconv._C" || { echo "the CPU engine did not build: cannot check the GPU against it"; exit 1; }
$PY - <<'PYEOF' || exit 1
import sys
from fastconv.gpu import _backend
try:
    _backend.require_device()
except ImportError as e:
    sys.exit(f"no usable GPU: {e}")
PYEOF

status=0
echo "== tests/gpu and the NVRTC compile tests"
if $PY -c "import pytest, hypothesis" 2>/dev/null; then
  $PY -m pytest -q -rs -p no:cacheprovider tests/gpu tests/test_gpu_kernels.py 2>&1 | tail -25
  status=${PIPESTATUS[0]}
else
  echo "pytest/hypothesis unavailable: skipped (the benchmark's correctness table still checks every kernel)"
fi

echo "== benchmark"
mkdir -p build
$PY bench/bench_gpu.py "$@" | tee build/gpu_results.md
bench_status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && [ "$bench_status" -eq 0 ] && echo "== GPU check passed" || echo "== GPU check FAILED (tests: $status, bench: $bench_status)"
exit $(( status || bench_status ))

"""show_config, threads and ISA selection (csrc/common/)."""
import os
import subprocess
import sys

import pytest

import fastconv
from fastconv import _C

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, **env):
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, cwd=ROOT)


def test_show_config_names_isa_threads_and_compiler(capsys):
    fastconv.show_config()
    out = capsys.readouterr().out
    assert fastconv.__version__ in out
    assert f"isa:            {fastconv.get_isa()}" in out
    assert f"threads:        {fastconv.get_num_threads()}" in out
    assert "compiler:" in out and "gemm_kernel:" in out
    b = _C.gemm_blocking(fastconv.get_isa())
    assert f"gemm_blocking:  MR {b['mr']} x NR {b['nr']}, KC {b['kc']}" in out


@pytest.mark.parametrize("isa", _C.available_isas())
def test_gemm_blocking_is_a_consistent_table(isa):
    b = _C.gemm_blocking(isa)
    assert 1 <= b["mr"] <= 16 and b["nr"] % 8 == 0
    assert b["mc"] % b["mr"] == 0 and b["nc"] % b["nr"] == 0 and b["kc"] >= 64
    with pytest.raises(ValueError, match="sse9"):
        _C.gemm_blocking("sse9")


def test_default_threads_are_the_available_cores():
    r = run_python("import fastconv; print(fastconv.get_num_threads())", FASTCONV_NUM_THREADS="")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == len(os.sched_getaffinity(0))


def test_threads_env_and_setter():
    r = run_python("import fastconv; print(fastconv.get_num_threads())", FASTCONV_NUM_THREADS="3")
    assert r.stdout.strip() == "3", r.stderr
    before = fastconv.get_num_threads()
    try:
        fastconv.set_num_threads(1)
        assert fastconv.get_num_threads() == 1
    finally:
        fastconv.set_num_threads(before)
    with pytest.raises(ValueError, match="must be >= 1, got 0"):
        fastconv.set_num_threads(0)
    with pytest.raises(TypeError):
        fastconv.set_num_threads(1.5)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_every_kernel_runs_on_the_one_task_pool():
    """n threads means the caller plus n - 1 pool workers, whatever ran: a second team (an OpenMP
    region left in a kernel) keeps its own threads spinning beside the pool's after every call
    and oversubscribes the cores for the layers that follow (ResNet-50 ran 1.4x slower)."""
    code = """
import os, numpy as np, fastconv
fastconv.set_num_threads(3)
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 64, 30, 30), dtype=np.float32)
w = rng.standard_normal((64, 64, 3, 3), dtype=np.float32)
for algo in ("im2col", "winograd_2x2", "winograd_4x4", "winograd_6x6"):
    fastconv.conv2d(x, w, padding=1, algo=algo)
fastconv.conv2d(x, w[:, :1], padding=1, groups=64)
fastconv.conv2d(x[:1, :, :6, :6], w, padding=1, algo="winograd_4x4")  # few tiles: shared blocks
fastconv.max_pool2d(x, 3, 2)
fastconv.gemm(x.reshape(-1, 900)[:128], x.reshape(900, -1)[:, :128].copy())
print(len(os.listdir("/proc/self/task")))
"""
    r = run_python(code, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == 3, f"{r.stdout.strip()} threads running; 3 threads = the caller + 2 pool workers"


def test_workers_spin_through_a_held_run_and_sleep_after():
    """fastconv.workers_held() (every session run and Model call) keeps the pool's workers spinning
    between layers; once the last hold ends they go back to sleep, or they would burn a core forever.
    Measured by the process's CPU time while the calling thread sleeps."""
    code = """
import time, numpy as np, fastconv
fastconv.set_num_threads(2)
fastconv.gemm(np.ones((256, 256), np.float32), np.ones((256, 256), np.float32))  # starts the worker
def cpu_while_sleeping():
    c = time.process_time(); time.sleep(0.3); return time.process_time() - c
with fastconv.workers_held():
    with fastconv.workers_held():  # holds nest (concurrent runs)
        pass
    held = cpu_while_sleeping()
time.sleep(0.05)
print(held, cpu_while_sleeping())
"""
    r = run_python(code, OPENBLAS_NUM_THREADS="1")
    assert r.returncode == 0, r.stderr
    held, after = map(float, r.stdout.split())
    assert held > 0.15, f"a held worker should spin: {held:.3f} s of CPU in 0.3 s"
    assert after < 0.05, f"released workers should sleep: {after:.3f} s of CPU in 0.3 s"


@pytest.mark.parametrize("isa", _C.available_isas())
def test_fastconv_isa_env_forces_a_level(isa):
    code = ("import fastconv, numpy as np; print(fastconv.get_isa()); "
            "print(fastconv._config.config()['gemm_kernel'])")
    r = run_python(code, FASTCONV_ISA=isa)
    assert r.returncode == 0, r.stderr
    got_isa, kernel = r.stdout.split()
    assert got_isa == isa
    assert kernel == _C.gemm_kernel(isa)


def test_bad_fastconv_isa_is_a_clear_import_error():
    r = run_python("import fastconv", FASTCONV_ISA="sse9")
    assert r.returncode != 0
    assert "FASTCONV_ISA='sse9'" in r.stderr and "expected one of avx512, avx2, generic" in r.stderr


def test_isa_above_the_cpu_is_refused():
    levels = ["generic", "avx2", "avx512"]
    best = _C.best_isa()
    above = levels[levels.index(best) + 1:]
    if not above:
        pytest.skip(f"this CPU supports the highest level ({best}); nothing above it to refuse")
    r = run_python("import fastconv", FASTCONV_ISA=above[0])
    assert r.returncode != 0 and "not supported by this CPU" in r.stderr


def test_use_isa_restores_the_previous_level():
    before = fastconv.get_isa()
    with fastconv.use_isa("generic"):
        assert fastconv.get_isa() == "generic"
    assert fastconv.get_isa() == before
    with pytest.raises(ValueError, match="unknown ISA"):
        with fastconv.use_isa("neon"):
            pass


@pytest.mark.parametrize("ntasks", [1, 2, 7, 1000, (1 << 24) + 5])
@pytest.mark.parametrize("threads", [2, 3])
def test_pool_runs_every_task_exactly_once(ntasks, threads):
    """The pool hands out tasks from both ends of one range (the caller from the front, the first
    worker from the back); each must run exactly once, also past the job word's 2^24 - 1 tasks,
    where a job runs as consecutive slices."""
    assert fastconv._C._parallel_once(ntasks, threads) == ntasks


@pytest.mark.parametrize("total, want, step, grain", [
    (784, 8, 2, 12),     # ResNet-50's 28x28 1x1 layers: positions in units of a 12-wide tile
    (196, 4, 2, 8),      # 56x56 at Winograd F(4x4): tiles in MR panels
    (49, 3, 2, 8), (28, 8, 2, 1), (7, 8, 2, 1), (3136, 8, 2, 12), (100, 5, 3, 4), (1, 8, 2, 12), (5, 1, 1, 8),
])
def test_even_split_balances_threads(total, want, step, grain):
    """The blocked convolutions' task cut: the pieces tile [0, total) in order, their bounds are
    multiples of grain, their count is a multiple of step wherever there are step grains to share,
    and a thread taking every step-th task gets its equal share to within a grain per task."""
    bounds = _C.even_split(total, want, step, grain)
    tasks = len(bounds) - 1
    assert bounds[0] == 0 and bounds[-1] == total and bounds == sorted(bounds)
    assert all(b % grain == 0 for b in bounds[:-1])
    most = -(-total // grain)   # pieces of at least a grain
    if most >= step:
        assert tasks % step == 0 and tasks >= min(want, most - most % step)
        sizes = [b - a for a, b in zip(bounds, bounds[1:])]
        share = total / step
        for first in range(step):   # the tasks one of `step` threads would end up with
            assert abs(sum(sizes[first::step]) - share) <= grain * tasks / step
    # the old rule, tasks of one rounded-up size, gave 784 positions as 7 x 108 + 36: 432 vs 360
    if (total, grain) == (784, 12):
        sizes = [b - a for a, b in zip(bounds, bounds[1:])]
        assert max(sum(sizes[: tasks // 2]), sum(sizes[tasks // 2:])) <= 396

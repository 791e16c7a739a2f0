"""What users pip-install is what is tested: build a wheel, install it into a fresh virtual
environment, and run a smoke test there (import, show_config, one conv vs a reference)."""
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SMOKE = r"""
import numpy as np, fastconv, os
assert not fastconv.__file__.startswith(os.environ["SRC_ROOT"]), fastconv.__file__
fastconv.show_config()
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
y = fastconv.conv2d(x, w, padding=1)
xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
ref = np.zeros((2, 4, 9, 8))
for r in range(3):
    for s in range(3):
        ref += np.einsum("nchw,kc->nkhw", xp[:, :, r:r + 9, s:s + 8], w[:, :, r, s])
err = np.abs(y - ref).max()
assert err < 1e-4, err
print("smoke ok", err)
"""


@pytest.mark.slow
def test_wheel_builds_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), ROOT],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    wheels = glob.glob(str(dist / "fastconv-*.whl"))
    assert len(wheels) == 1, wheels
    assert "linux_x86_64" in wheels[0] or "manylinux" in wheels[0] or "macosx" in wheels[0] or "win" in wheels[0]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    install = subprocess.run([py, "-m", "pip", "install", "-q", wheels[0]], capture_output=True, text=True)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FASTCONV_ISA")}
    env["SRC_ROOT"] = ROOT
    smoke = subprocess.run([py, "-c", SMOKE], capture_output=True, text=True, cwd=str(tmp_path), env=env)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke ok" in smoke.stdout and "isa:" in smoke.stdout

"""Every CUDA source of fastconv/gpu compiles for sm_80 and sm_90 (A100, H100), exactly as NVRTC
receives it at run time, and exports every kernel the Python side launches. Runs without a GPU:
nvcc -ptx only needs the CUDA toolkit; NVRTC through CuPy additionally needs a driver."""
import pathlib
import re
import shutil
import subprocess

import pytest

from fastconv.gpu import _backend, _math

ARCHS = ("sm_80", "sm_90")
ROOT = pathlib.Path(__file__).resolve().parent.parent
GPU_PY = sorted((ROOT / "fastconv" / "gpu").glob("*.py"))
NVCC = shutil.which("nvcc")


def launched_kernels():
    """{file: {function, ...}} from every kernel("file.cu", "function") call in fastconv/gpu."""
    found = {}
    for path in GPU_PY:
        for f, fn in re.findall(r'kernel\(\s*"([\w.]+)",\s*(?:"(\w+)"|name)', path.read_text()):
            found.setdefault(f, set()).update({fn} if fn else set())
    # the epilogue picks its variant at run time: kernel("epilogue.cu", name)
    found.setdefault("epilogue.cu", set()).update({"fc_channel_epilogue", "fc_channel_epilogue_vec4"})
    return found


def test_every_cu_file_is_listed():
    on_disk = {p.name for p in _backend.KERNEL_DIR.glob("*.cu")}
    assert on_disk == set(_backend.KERNEL_FILES)
    assert set(launched_kernels()) <= on_disk


@pytest.mark.skipif(NVCC is None, reason="no CUDA compiler (nvcc) on this machine")
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", _backend.KERNEL_FILES)
def test_kernel_compiles_with_nvcc(name, arch, tmp_path):
    src = tmp_path / name
    src.write_text(_backend.kernel_source(name))
    ptx = tmp_path / (name + ".ptx")
    opts = [o.replace("--std=", "-std=") for o in _backend.NVRTC_OPTIONS]
    run = subprocess.run([NVCC, "-ptx", f"-arch={arch}", *opts, "-Werror", "all-warnings", str(src), "-o", str(ptx)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    entries = set(re.findall(r"\.entry\s+(\w+)", ptx.read_text()))
    missing = launched_kernels().get(name, set()) - entries
    assert not missing, f"{name} does not export {missing} (exports {entries})"


def _nvrtc_usable():
    try:
        import cupy
        cupy.cuda.compiler.compile_using_nvrtc('extern "C" __global__ void f() {}', arch="80")
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _nvrtc_usable(), reason="NVRTC through CuPy is not usable here (no CuPy, libnvrtc or CUDA driver)")
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", _backend.KERNEL_FILES)
def test_kernel_compiles_with_nvrtc(name, arch):
    import cupy
    # CuPy takes the compute capability as digits ("90") and adds -arch=sm_90 itself.
    cupy.cuda.compiler.compile_using_nvrtc(_backend.kernel_source(name), options=_backend.NVRTC_OPTIONS,
                                           arch=arch.removeprefix("sm_"))


def test_sources_are_self_contained():
    for name in _backend.KERNEL_FILES:
        text = _backend.kernel_source(name)
        assert "#include" not in text, f"{name}: NVRTC has no include path; only local headers may be included"
        assert "typedef long long idx_t" in text


def test_activation_codes_agree_with_cpu_and_cuda():
    """The activation numbering is one list in three languages: C++ enum, CUDA defines, Python."""
    enum = (ROOT / "csrc" / "act" / "act-params.h").read_text()
    body = enum[enum.index("enum class ActKind"):]
    body = body[body.index("{") + 1:body.index("};")]
    cpp = [re.match(r"\s*(\w+)", line).group(1) for line in body.splitlines() if re.match(r"\s*\w+", line)]
    assert cpp == sorted(_math.ACT_CODES, key=_math.ACT_CODES.get)
    cuda = dict((k.lower(), int(v)) for k, v in
                re.findall(r"#define FC_ACT_(\w+) (\d+)", (_backend.KERNEL_DIR / "common.cuh").read_text()))
    assert cuda == _math.ACT_CODES


def test_every_kernel_file_ships_in_the_wheel():
    """pyproject's package-data must cover each file the runtime reads (sources and headers)."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    import fnmatch
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["fastconv"]
    for path in _backend.KERNEL_DIR.iterdir():
        rel = path.relative_to(ROOT / "fastconv").as_posix()
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), f"{rel} is not in package-data {patterns}"

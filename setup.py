"""Build fastconv's two native modules.

fastconv._C          pybind11 binding of the C++ engine in csrc/ (the only compute binding).
fastconv._preprocess Cython hot loops of image preprocessing (not a kernel).

One build runs on every x86-64 CPU: a kernel file states its ISA in its name
(`f32-gemm-14x32-avx512f.cc`), is compiled with that ISA's flags only, and the engine
picks among them at import by CPUID. Everything else is compiled for baseline x86-64.
"""
import glob
import os
import platform
from concurrent.futures import ThreadPoolExecutor

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ISA_FLAGS = {  # file-name suffix -> extra compile flags for that file alone
    "-avx512f.cc": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma", "-mf16c",
                    "-Wno-maybe-uninitialized"],  # GCC 12 false positives inside avx512fintrin.h,
    "-avx2.cc": ["-mavx2", "-mfma", "-mf16c"],
}
IS_X86 = platform.machine().lower() in ("x86_64", "amd64")


def isa_flags(source):
    for suffix, flags in ISA_FLAGS.items():
        if source.endswith(suffix):
            return flags
    return []


def newest_header_mtime():
    return max((os.path.getmtime(h) for h in glob.glob("csrc/**/*.h", recursive=True)), default=0.0)


class BuildExt(build_ext):
    """Adds per-file ISA flags, compiles the sources of an extension in parallel, and
    skips objects newer than their source and every header (fast rebuilds while developing)."""

    def build_extensions(self):
        compiler = self.compiler
        compile_one = compiler._compile
        headers_mtime = newest_header_mtime()

        def _compile(obj, src, ext, cc_args, extra_postargs, pp_opts):
            if os.path.exists(obj) and os.path.getmtime(obj) > max(os.path.getmtime(src), headers_mtime):
                return
            return compile_one(obj, src, ext, cc_args, list(extra_postargs) + isa_flags(src), pp_opts)

        def compile_parallel(sources, output_dir=None, macros=None, include_dirs=None, debug=0,
                             extra_preargs=None, extra_postargs=None, depends=None):
            macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
                output_dir, macros, include_dirs, sources, depends, extra_postargs)
            cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)
            jobs = [(obj,) + build[obj] for obj in objects if obj in build]
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                list(pool.map(lambda j: _compile(j[0], j[1], j[2], cc_args, extra_postargs, pp_opts), jobs))
            return objects

        compiler._compile = _compile
        compiler.compile = compile_parallel
        super().build_extensions()


def engine_sources():
    sources = sorted(glob.glob("csrc/**/*.cc", recursive=True))
    if not IS_X86:
        sources = [s for s in sources if not isa_flags(s)]
    return sources


def native_extensions():
    import numpy
    import pybind11

    # No -fopenmp for the engine: its threads are one task pool (csrc/common/parallel.h).
    common_flags = ["-O3", "-std=c++17", "-fvisibility=hidden"]
    engine = Extension(
        "fastconv._C",
        sources=engine_sources(),
        # headers too: a header-only edit must rebuild (setuptools compares only these dates)
        depends=sorted(glob.glob("csrc/**/*.h", recursive=True)),
        include_dirs=["csrc", pybind11.get_include()],
        extra_compile_args=common_flags,
        extra_link_args=["-pthread"],
        define_macros=[] if IS_X86 else [("FASTCONV_NO_X86_KERNELS", "1")],
        language="c++",
    )
    exts = [engine]
    if os.path.exists("fastconv/_preprocess.pyx"):
        from Cython.Build import cythonize

        pre = Extension(
            "fastconv._preprocess",
            sources=["fastconv/_preprocess.pyx"],
            include_dirs=[numpy.get_include()],
            extra_compile_args=["-O3", "-fopenmp"],
            extra_link_args=["-fopenmp"],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        exts += cythonize([pre], language_level=3, compiler_directives={"boundscheck": False, "wraparound": False})
    return exts


setup(ext_modules=native_extensions(), cmdclass={"build_ext": BuildExt})

"""The cost model behind algo="auto" (csrc/conv/conv-cost.cc) computes exactly what
bench/fit_cost_model.py fits: the same work counts times the constants pasted from the fit.
A term added on one side only (a per-tile cost, a copy's extent) fails here."""
import os
import re
import sys

import numpy as np
import pytest

import fastconv
from fastconv import _C

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))


def cpp_constants():
    src = open(os.path.join(ROOT, "csrc", "conv", "conv-cost.cc")).read()
    consts = {n: float(v) for n, v in re.findall(r"constexpr double (\w+) = ([0-9.e+-]+);", src)}
    for name, values in re.findall(r"constexpr double kWino(\w+)\[4\] = \{([^}]*)\};", src):
        for m, v in zip((2, 3, 4, 6), values.split(",")):
            consts[f"kWino{m}{name}"] = float(v)
    return consts


LAYERS = [  # C, K, H = W, stride, kernel, padding: each feature family of the fit
    (64, 64, 56, 1, 3, 1), (256, 256, 14, 1, 3, 1), (32, 32, 7, 1, 3, 1), (128, 128, 56, 2, 3, 1),
    (512, 1024, 28, 2, 1, 0), (3, 64, 224, 2, 7, 3), (3, 96, 227, 4, 11, 0),
]


@pytest.mark.skipif("avx512" not in _C.available_isas(), reason="the model is fitted for the AVX-512 GEMM tile; "
                    "this CPU cannot build AVX-512 plans")
@pytest.mark.parametrize("c,k,hw,stride,ks,pad", LAYERS)
def test_cpp_cost_model_matches_the_fit_script(c, k, hw, stride, ks, pad):
    import fit_cost_model as fit

    consts = cpp_constants()
    assert set(fit.NAMES) <= set(consts), set(fit.NAMES) - set(consts)
    with fastconv.use_isa("avx512"):
        plan = fastconv.ConvPlan(np.ones((k, c, ks, ks), np.float32), stride=stride, padding=pad)
    algos = fit.GEMM_ALGOS + ([a for a in fit.ALGOS if a.startswith("winograd")] if stride == 1 and ks == 3 else [])
    for algo in algos:
        modelled = sum(consts[n] * v for n, v in fit.features(algo, c, k, hw, stride, ks, pad).items())
        assert plan._plan.modelled_cost(algo, hw, hw) == pytest.approx(modelled, rel=1e-9), algo

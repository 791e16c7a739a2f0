"""The cost model behind algo="auto" (csrc/conv/conv-cost.cc) computes exactly what
bench/fit_cost_model.py fits: the same work counts times the row of constants pasted from the fit
for each ISA level.
A term added on one side only (a per-tile cost, a copy's extent) fails here."""
import os
import sys

import numpy as np
import pytest

import fastconv
from fastconv import _C

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))


LAYERS = [  # C, K, H = W, stride, kernel, padding: each feature family of the fit
    (64, 64, 56, 1, 3, 1), (256, 256, 14, 1, 3, 1), (32, 32, 7, 1, 3, 1), (128, 128, 56, 2, 3, 1),
    (512, 1024, 28, 2, 1, 0), (3, 64, 224, 2, 7, 3), (3, 96, 227, 4, 11, 0), (256, 64, 56, 1, 1, 0),
    (512, 2048, 7, 1, 1, 0),
]


def test_the_fit_script_names_the_cpp_terms_in_order():
    import fit_cost_model as fit

    for isa in _C.available_isas():
        assert [name for name, _ in _C.cost_coefficients(isa)] == fit.NAMES
        assert all(v >= 0 for _, v in _C.cost_coefficients(isa)), isa


@pytest.mark.parametrize("isa", _C.available_isas())
@pytest.mark.parametrize("c,k,hw,stride,ks,pad", LAYERS)
def test_cpp_cost_model_matches_the_fit_script(isa, c, k, hw, stride, ks, pad):
    import fit_cost_model as fit

    consts = dict(_C.cost_coefficients(isa))
    with fastconv.use_isa(isa):
        plan = fastconv.ConvPlan(np.ones((k, c, ks, ks), np.float32), stride=stride, padding=pad)
    algos = fit.GEMM_ALGOS + ([a for a in fit.ALGOS if a.startswith("winograd")] if stride == 1 and ks == 3 else [])
    algos += fit.POINTWISE_ALGOS[:2] if stride == 1 and ks == 1 else []
    for algo in algos:
        modelled = sum(consts[n] * v for n, v in fit.features(algo, c, k, hw, stride, ks, pad, isa).items())
        if algo == "direct" and consts["kDirectPerFlop"] == 0:
            modelled = float("inf")  # not fitted for this level: never auto's pick
        assert plan._plan.modelled_cost(algo, hw, hw) == pytest.approx(modelled, rel=1e-9), (isa, algo)

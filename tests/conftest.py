"""Shared fixtures: every ISA level the CPU has, fresh random data, poisoned outputs."""
import zlib

import numpy as np
import pytest

import fastconv
from fastconv import _C

ISAS = list(_C.available_isas())
# The deepest GEMM k block of any ISA here: a depth beyond it splits into several blocks on
# every ISA, so the tiles that accumulate partial sums run everywhere.
KC_MAX = max(_C.gemm_blocking(i)["kc"] for i in ISAS)


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs the test once per ISA level this CPU supports; plans built inside use its kernels."""
    with fastconv.use_isa(request.param):
        yield request.param


@pytest.fixture
def rng(request):
    """A generator seeded from the test's name: fresh data per test, reproducible per run."""
    seed = zlib.crc32(request.node.nodeid.encode())
    return np.random.default_rng(seed)


def poisoned(shape):
    """An output buffer full of NaN, so any element a kernel fails to write shows up."""
    return np.full(shape, np.nan, dtype=np.float32)

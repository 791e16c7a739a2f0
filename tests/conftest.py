"""Shared fixtures: every ISA level the CPU has, fresh random data, poisoned outputs."""
import zlib

import numpy as np
import pytest

import fastconv
from fastconv import _C

ISAS = list(_C.available_isas())


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

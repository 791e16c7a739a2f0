"""Which kernels run, on how many threads: the user-visible side of the engine's dispatch."""
from __future__ import annotations

import contextlib
import os
import platform

from . import _C

__all__ = ["show_config", "get_num_threads", "set_num_threads", "workers_held", "get_isa", "use_isa"]

try:  # fills the kernel tables now, so a bad FASTCONV_ISA fails at import, not at the first conv
    _C.active_isa()
except ValueError as e:
    raise ImportError(f"fastconv cannot start with FASTCONV_ISA={os.environ.get('FASTCONV_ISA')!r}: {e}") from None


def get_num_threads() -> int:
    """Threads each kernel uses (default: the cores this process may run on, or FASTCONV_NUM_THREADS)."""
    return _C.num_threads()


def set_num_threads(n: int) -> None:
    """Sets the threads every kernel uses from now on (n >= 1)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    _C.set_num_threads(n)


@contextlib.contextmanager
def workers_held():
    """Keeps the engine's worker threads spinning through a whole network run, as onnxruntime's pool
    does: between layers they would otherwise sleep, and a sleeping core can take a millisecond to join
    the next layer (csrc/common/parallel.h, pool_hold). InferenceSession.run and Model calls hold
    them already; use it around a loop of functional calls (fastconv.conv2d, ...) that forms a network.
    Holds nest; the workers sleep again ~50 us after the last one ends."""
    held = _C.num_threads() > 1
    if held:
        _C.pool_hold(True)
    try:
        yield
    finally:
        if held:
            _C.pool_hold(False)


def get_isa() -> str:
    """The instruction-set level whose kernels new plans use: 'avx512', 'avx2' or 'generic'."""
    return _C.active_isa()


@contextlib.contextmanager
def use_isa(isa: str):
    """Temporarily builds new plans with the kernels of `isa` (no higher than the CPU supports).

    Plans keep the kernels they were built with; this affects plans created inside the block.
    """
    previous = _C.active_isa()
    _C.set_isa(isa)
    try:
        yield
    finally:
        _C.set_isa(previous)


def config() -> dict:
    from . import __version__

    return {
        "version": __version__,
        "isa": _C.active_isa(),
        "available_isas": list(_C.available_isas()),
        "gemm_kernel": _C.gemm_kernel(_C.active_isa()),
        "gemm_blocking": "MR {mr} x NR {nr}, KC {kc}, MC {mc}, NC {nc}".format(**_C.gemm_blocking(_C.active_isa())),
        "threads": _C.num_threads(),
        "compiler": _C.compiler,
        "machine": platform.machine(),
        "FASTCONV_ISA": os.environ.get("FASTCONV_ISA"),
    }


def show_config() -> None:
    """Prints the version, the ISA in use and those available, threads and compiler."""
    for key, value in config().items():
        print(f"{key + ':':16s}{value}")

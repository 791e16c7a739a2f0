"""`device=` on the public API: "cpu" (numpy in, numpy out) or "cuda" (fastconv.gpu's kernels, CuPy
arrays out). Left as None, an op runs where its input lives: a CuPy array (anything with
`__cuda_array_interface__`: CuPy, PyTorch CUDA tensors, Numba arrays) runs on the GPU, everything
else on the CPU. fastconv.gpu is imported only when a call goes there, so the CPU path never
needs CuPy; without it the call raises ImportError naming `pip install fastconv[gpu]`."""
from __future__ import annotations

import functools
import importlib
import inspect

DEVICES = ("cpu", "cuda")


def is_gpu_array(x) -> bool:
    return hasattr(x, "__cuda_array_interface__")


def check_device(device) -> str:
    """"cpu" or "cuda" (then with a usable GPU, else ImportError saying how to get one)."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cuda":
        from .gpu import _backend
        _backend.require_device()
    return device


def resolve(device, x) -> str:
    """The device an op runs on: `device` if given, else where x lives."""
    if device is None:
        return "cuda" if is_gpu_array(x) else "cpu"
    return check_device(device)


def dispatched(gpu_name: str):
    """Adds a keyword-only `device=None` to a CPU function whose fastconv.gpu counterpart
    `gpu_name` takes the same arguments, and sends GPU calls there (the first argument, x, decides
    when device is None)."""
    def wrap(cpu_fn):
        @functools.wraps(cpu_fn)
        def op(*args, device=None, **kwargs):
            x = args[0] if args else kwargs.get("x")
            if resolve(device, x) == "cpu":
                return cpu_fn(*args, **kwargs)
            return getattr(importlib.import_module("fastconv.gpu"), gpu_name)(*args, **kwargs)

        sig = inspect.signature(cpu_fn)
        device = inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default=None)
        op.__signature__ = sig.replace(parameters=[*sig.parameters.values(), device])
        op.__doc__ = (cpu_fn.__doc__ or "") + (
            "\n\n    device: None (where x lives: CuPy arrays run on the GPU), \"cpu\" or \"cuda\" "
            f"(fastconv.gpu.{gpu_name}: CuPy array out).")
        return op
    return wrap

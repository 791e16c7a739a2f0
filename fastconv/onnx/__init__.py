"""ONNX import: load a model, optimize its graph, run it on fastconv's kernels.

    import fastconv
    sess = fastconv.InferenceSession("model.onnx")
    outputs = sess.run(None, {"input": x})

Needs the onnx package (pip install 'fastconv[onnx]'), imported only when a model is loaded.
"""
from . import _ops_nn, _ops_tensor  # noqa: F401  (fill the operator table)
from ._load import OnnxLoadError
from ._registry import OPS, OpError
from .session import InferenceSession, NodeArg

SUPPORTED_OPS = tuple(sorted(OPS))

__all__ = ["InferenceSession", "NodeArg", "OnnxLoadError", "OpError", "SUPPORTED_OPS", "Backend"]


def __getattr__(name):
    if name in ("Backend", "BackendRep"):  # imports onnx.backend, only when asked for
        import importlib

        return getattr(importlib.import_module(".backend", __name__), name)
    raise AttributeError(f"module 'fastconv.onnx' has no attribute {name!r}")

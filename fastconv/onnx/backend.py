"""fastconv as an onnx.backend.base.Backend, so ONNX's own backend test runner can drive it:

    import onnx.backend.test
    onnx.backend.test.BackendTest(fastconv.onnx.Backend, __name__)
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx.backend.base import Backend as _Backend
from onnx.backend.base import BackendRep as _BackendRep

from .session import InferenceSession

_SESSION_OPTIONS = ("optimize", "threads", "algo")


class BackendRep(_BackendRep):
    """A prepared model: run(inputs) takes arrays in the order of the model's inputs (or a dict)."""

    def __init__(self, session: InferenceSession):
        self.session = session

    def run(self, inputs, **kwargs):
        names = [i.name for i in self.session.get_inputs()]
        if isinstance(inputs, dict):
            feeds = inputs
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            inputs = list(inputs)
            if len(inputs) != len(names):
                raise ValueError(f"got {len(inputs)} inputs, the model has {len(names)}: {names}")
            feeds = dict(zip(names, inputs))
        return tuple(self.session.run(None, feeds))


class Backend(_Backend):
    @classmethod
    def is_compatible(cls, model, device: str = "CPU", **kwargs) -> bool:
        from ._registry import OPS

        return cls.supports_device(device) and all(
            n.op_type in OPS and n.domain in ("", "ai.onnx") for n in model.graph.node)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).upper().startswith("CPU")

    @classmethod
    def prepare(cls, model, device: str = "CPU", **kwargs) -> BackendRep:
        if not cls.supports_device(device):
            raise ValueError(f"fastconv runs on the CPU only, got device {device!r}")
        options = {k: v for k, v in kwargs.items() if k in _SESSION_OPTIONS}
        return BackendRep(InferenceSession(model, **options))

    @classmethod
    def run_model(cls, model, inputs, device: str = "CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device: str = "CPU", outputs_info=None, **kwargs):
        """Runs one NodeProto on inputs (a list of arrays, in the node's input order)."""
        from onnx import helper

        ins = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.asarray(x).dtype),
                                             np.shape(x)) for name, x in zip(node.input, inputs) if name]
        outs = [helper.make_tensor_value_info(name, onnx.TensorProto.UNDEFINED, None) for name in node.output if name]
        graph = helper.make_graph([node], "run_node", ins, outs)
        opset = kwargs.get("opset_version", onnx.defs.onnx_opset_version())
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        feeds = {name: np.asarray(x) for name, x in zip(node.input, inputs) if name}
        return cls.prepare(model, device, **kwargs).run(feeds)


prepare = Backend.prepare
run_model = Backend.run_model
run_node = Backend.run_node
supports_device = Backend.supports_device

"""The operator table: ONNX op type -> factory. A factory sees one node once, at plan time (attributes,
constant inputs, opset) and returns the function the session calls on every run; that is where
weights are packed (ConvPlan) so that running only moves pointers."""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

OPS: dict[str, Callable] = {}


def op(*names: str):
    def register(factory):
        for n in names:
            OPS[n] = factory
        return factory
    return register


@dataclasses.dataclass
class OpContext:
    opset: int
    constants: dict[str, np.ndarray]
    algo: str = "auto"
    allow_tf32: bool = False   # device="cuda": TF32 GEMMs in the convolutions

    def const(self, node, i: int):
        """The constant value of node input i, or None when it is absent or computed at run time."""
        if i >= len(node.inputs) or not node.inputs[i]:
            return None
        return self.constants.get(node.inputs[i])

    def has(self, node, i: int) -> bool:
        return i < len(node.inputs) and bool(node.inputs[i])


class OpError(ValueError):
    """An operator cannot run with the inputs it was given (wrong shapes, bad attribute values)."""

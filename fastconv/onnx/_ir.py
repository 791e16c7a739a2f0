"""The session's own graph form: plain Python nodes and numpy constants, independent of protobuf.

The optimizer rewrites this form; the session plans and runs it. Node inputs are value names
("" for an omitted optional input), exactly as in ONNX.
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Node:
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = dataclasses.field(default_factory=dict)
    name: str = ""
    domain: str = ""

    def label(self) -> str:
        return f"{self.op} node {self.name!r}" if self.name else f"{self.op} node producing {self.outputs[:1]}"


@dataclasses.dataclass
class ValueInfo:
    """A graph input or output: element dtype (numpy) and shape with ints, names (symbolic) or None."""
    name: str
    dtype: np.dtype | None
    shape: tuple | None

    @property
    def type(self) -> str:
        return f"tensor({_ONNX_TYPE_NAMES.get(np.dtype(self.dtype).name, 'unknown') if self.dtype else 'unknown'})"


_ONNX_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "float16", "int64": "int64",
                    "int32": "int32", "int8": "int8", "uint8": "uint8", "bool": "bool", "int16": "int16"}


@dataclasses.dataclass
class Graph:
    nodes: list[Node]
    constants: dict[str, np.ndarray]
    inputs: list[ValueInfo]
    outputs: list[ValueInfo]
    opset: int
    shapes: dict = dataclasses.field(default_factory=dict)  # value name -> static shape (ints/None) if known

    def producers(self) -> dict[str, Node]:
        return {o: n for n in self.nodes for o in n.outputs if o}

    def consumers(self) -> dict[str, list[Node]]:
        users: dict[str, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                if i:
                    users.setdefault(i, []).append(n)
        return users

    def output_names(self) -> set[str]:
        return {o.name for o in self.outputs}

    def copy(self) -> "Graph":
        nodes = [dataclasses.replace(n, inputs=list(n.inputs), outputs=list(n.outputs), attrs=dict(n.attrs))
                 for n in self.nodes]
        return Graph(nodes, dict(self.constants), list(self.inputs), list(self.outputs), self.opset, dict(self.shapes))

"""ONNX's own backend test suite, run offline through fastconv.onnx.Backend.

Collected: every node test (generated in this session from onnx/backend/test/case/node), the
pytorch-converted, pytorch-operator and simple suites, and the light model-zoo files, for each test
whose model uses only operators fastconv supports. Each must pass, or be listed with its reason in
tests/onnx_expected_failures.txt; the list itself is checked (an entry that passes, or names no
collected test, fails)."""
import os
import re
import tempfile
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX backend suite needs the optional onnx package")

from onnx.backend.test.loader import load_model_tests  # noqa: E402
from onnx.backend.test.runner import Runner  # noqa: E402

from fastconv.onnx import Backend  # noqa: E402
from fastconv.onnx._registry import OPS  # noqa: E402

EXPECTED_FAILURES = Path(__file__).with_name("onnx_expected_failures.txt")
KINDS = ("node", "simple", "pytorch-converted", "pytorch-operator", "real")


def _read_expected_failures() -> dict[str, str]:
    out = {}
    for line in EXPECTED_FAILURES.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition("#")
            out[name.strip()] = reason.strip()
    return out


def _model_ops(test) -> set[str] | None:
    model = test.model
    if model is None:
        path = Path(test.model_dir or "", "model.onnx")
        if test.url and test.url.startswith("onnx/backend/test/data/light/"):
            path = Path(onnx.__file__).parent.parent / test.url
        if not path.is_file():
            return None
        model = onnx.load(str(path), load_external_data=False)
    return {(n.domain if n.domain not in ("", "ai.onnx") else "") + n.op_type for n in model.graph.node}


def _supported_tests() -> tuple[list[str], list[str]]:
    supported, unsupported = [], []
    for kind in KINDS:
        for t in load_model_tests(kind=kind):
            ops = _model_ops(t)
            (supported if ops is not None and ops <= set(OPS) else unsupported).append(t.name)
    return supported, unsupported


# the light-model tests write their inputs under $ONNX_HOME: keep that out of the user's home
os.environ.setdefault("ONNX_HOME", tempfile.mkdtemp(prefix="fastconv-onnx-home-"))

SUPPORTED, UNSUPPORTED = _supported_tests()
XFAIL = _read_expected_failures()

_runner = Runner(Backend, __name__)
_runner.include("^(" + "|".join(re.escape(n) for n in SUPPORTED) + ")_cpu$")
for _name in XFAIL:
    _runner.xfail("^" + re.escape(_name) + "_cpu$")
_SELECTED = {f"{n}_cpu" for n in SUPPORTED}
_CASES = _runner.test_cases  # a property that builds new classes on each access
for _case in _CASES.values():
    # tests for unsupported operators and other devices are not collected at all (rather than skipped)
    for _attr in [a for a in vars(_case) if a.startswith("test_") and a not in _SELECTED]:
        delattr(_case, _attr)
globals().update(_CASES)


def test_expected_failures_name_collected_tests():
    stale = sorted(set(XFAIL) - set(SUPPORTED))
    assert not stale, f"tests/onnx_expected_failures.txt lists tests that are not collected (remove them): {stale}"


def test_expected_failures_have_reasons():
    assert all(XFAIL.values()), [n for n, r in XFAIL.items() if not r]


def test_suite_is_not_empty():
    # a guard against a filter that silently selects nothing
    assert len(SUPPORTED) > 600, len(SUPPORTED)

"""2-D convolution on NCHW float32 arrays: a plan built once from the weights, and conv2d."""
from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from . import _C, _memory
from ._device import dispatched, resolve
from ._checks import activation as _activation
from ._checks import as_float32, check_conv_layer, pads4, pair

__all__ = ["ConvPlan", "autotune", "conv2d", "conv_output_shape"]

# Process-wide autotuning memory: (layer, input shape, isa, threads) -> the fastest algorithm measured.
_TUNED: dict[tuple, str] = {}
_TUNE_LOCK = threading.Lock()
_AUTOTUNE_DEFAULT = threading.local()
_TUNE_ROUNDS = 5


@contextlib.contextmanager
def autotune(enabled: bool = True):
    """Plans created inside this block with algo="auto" measure their candidates.

    On a plan's first run for an input shape, every algorithm auto may use for the layer
    (`ConvPlan.auto_candidates`) runs a few times on that input and the fastest is kept;
    the choice is remembered for the process, so later plans of the same layer shape
    reuse it without measuring. Same as ConvPlan(..., autotune=True).
    """
    previous = getattr(_AUTOTUNE_DEFAULT, "on", False)
    _AUTOTUNE_DEFAULT.on = enabled
    try:
        yield
    finally:
        _AUTOTUNE_DEFAULT.on = previous


def conv_output_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1) -> tuple[int, int, int, int]:
    """(N, K, OH, OW) of a convolution, or ValueError if the kernel does not fit the padded input."""
    n, _, h, w = input_shape
    k, _, kh, kw = weight_shape
    (sh, sw), (dh, dw) = pair(stride, "stride"), pair(dilation, "dilation")
    pt, pl, pb, pr = pads4(padding)
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if h + pt + pb < eh or w + pl + pr < ew:
        raise ValueError(f"the dilated kernel ({eh}x{ew}) is larger than the padded input "
                         f"({h + pt + pb}x{w + pl + pr}: input {h}x{w}, padding {(pt, pl, pb, pr)})")
    return n, k, (h + pt + pb - eh) // sh + 1, (w + pl + pr - ew) // sw + 1


class ConvPlan:
    """A convolution layer ready to run: weights packed once, algorithm chosen per input size.

    weight: (K, C/groups, kh, kw); bias: (K,) or None. stride/dilation: int or pair;
    padding: int, (h, w) or (top, left, bottom, right). activation: None, "relu", "relu6",
    ("leaky_relu", a), ("clip", lo, hi), "sigmoid", "tanh", "silu", "hard_swish", ...
    algo: "auto" (the default: a cost model fitted to this engine's measured speeds picks, per
    input size, among the algorithms below), or one of
      "im2col"        any layer: packed GEMM over the im2col matrix, formed while packing;
      "pointwise"     1x1, stride 1, unpadded: GEMM on the input itself;
      "im2col_t", "pointwise_t"
                      the same products transposed (output positions as the GEMM's rows): less
                      padding when an image has few positions (7x7: 1.1-1.2x faster);
      "implicit"      any layer: the same GEMM reading the im2col rows in place from a padded
                      copy of the input (nothing packed per image; each output row computed
                      widened by the kernel's overhang): 1.1-1.2x im2col where packing weighs
                      most (few output channels, AlexNet's stem), about even from 128 channels;
      "implicit_t"    any layer: the transposed product read in place from a padded
                      channels-last copy of the input (positions pad to 8 rows, nothing packed
                      per image): 1.05-1.1x im2col on small images of many channels (14x14);
      "depthwise"     groups == in_channels: direct kernel;
      "direct"        groups 1: direct convolution by the channel-blocked kernel (nothing
                      packed per call; output copied to NCHW in cache-sized parts): 1.1-1.4x
                      the GEMM paths on the ResNet stem and on 3x3 layers of 64 channels;
      "winograd_2x2", "winograd_3x3", "winograd_4x4", "winograd_6x6"
                      3x3, stride 1, undilated, groups 1 (any padding, any batch): Winograd
                      F(m x m, 3x3); fewer multiplications (2.25x, 3.24x, 4x, 5.06x) at a
                      larger rounding error (relative L2 up to ~5e-7, 2e-6, 2e-6, 7e-6 at
                      C = 512, N(0,1) data, He weights; see bench/RESULTS.md);
      "winograd"      the Winograd variant the cost model prefers for the input size.
    An algorithm that cannot run the layer raises ValueError saying why and which can.
    autotune: with algo="auto", measure the candidates on the first run of each input
    shape instead of trusting the model, and remember the winner for the process (see
    `fastconv.autotune`). `plan.algo` shows what ran.
    Calling the plan on x (N, C, H, W) returns activation(conv(x) + bias + residual).
    Thread-safe: one plan may run from several Python threads at once.
    device: None (where the weight lives: a CuPy weight builds a GPU plan), "cpu" or "cuda"; a GPU
    plan is a fastconv.gpu.ConvPlan (its algorithms: im2col, pointwise, winograd, depthwise).
    """

    def __new__(cls, weight=None, *args, device=None, **kwargs):
        if resolve(device, weight) == "cuda":
            from .gpu import ConvPlan as GpuConvPlan   # not a subclass: Python skips __init__ below
            return GpuConvPlan(weight, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None,
                 algo: str = "auto", autotune: bool | None = None, *, device=None):
        weight = as_float32(weight, "weight", ndim=4)
        if bias is not None:
            bias = as_float32(bias, "bias", ndim=1)
        check_conv_layer(weight.shape, groups, None if bias is None else bias.shape)
        self.weight, self.bias, self.groups = weight, bias, groups
        self.stride, self.dilation, self.padding = pair(stride, "stride"), pair(dilation, "dilation"), pads4(padding)
        self.activation = _activation(activation)
        self.in_channels = weight.shape[1] * groups
        self._plan = _C.ConvPlan(weight, bias, self.in_channels, self.stride, self.dilation, self.padding, groups,
                                 *self.activation, algo)
        self.algo_preference = algo
        if autotune is None:
            autotune = getattr(_AUTOTUNE_DEFAULT, "on", False)
        self.autotune = bool(autotune) and algo == "auto"
        self._tuned_plans = {}  # input shape -> _C.ConvPlan of the measured winner (autotune)
        self._last_hw = None
        self._last_plan = self._plan
        self._out_shapes: dict = {}  # checked input shape -> output shape (the per-call fast path)

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    @property
    def algo(self) -> str | None:
        """The algorithm used for the last input size run (None before the first run)."""
        return None if self._last_hw is None else self._last_plan.algo_for(*self._last_hw)

    def algo_for(self, height: int, width: int) -> str:
        """The algorithm this plan runs for an input of height x width (packs weights if needed).

        With autotune, the measured choice once an input of that size has run, else the model's.
        """
        for shape, plan in self._tuned_plans.items():
            if shape[2:] == (height, width):
                return plan.algo_for(height, width)
        return self._plan.algo_for(height, width)

    def output_shape(self, input_shape) -> tuple[int, int, int, int]:
        return conv_output_shape(input_shape, self.weight.shape, self.stride, self.padding, self.dilation)

    def _check_input(self, x):
        x = as_float32(x, "x", ndim=4)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x has {x.shape[1]} channels (shape {x.shape}); the weight {self.weight.shape} with "
                             f"groups={self.groups} expects {self.in_channels}")
        return x

    def __call__(self, x, residual=None, out=None) -> np.ndarray:
        shape = self._out_shapes.get(x.shape) if type(x) is np.ndarray and x.dtype == np.float32 \
            and x.flags.c_contiguous else None
        if shape is None:  # first call for this shape, or an input that needs converting: full checks
            x = self._check_input(x)
            shape = self._out_shapes[x.shape] = self.output_shape(x.shape)
        if residual is not None:
            residual = as_float32(residual, "residual", ndim=4)
            if residual.shape != shape:
                raise ValueError(f"residual has shape {residual.shape}, the output has shape {shape}")
        if out is None:
            out = _memory.empty(shape)
        plan = self._tuned_plan(x, out) if self.autotune else self._plan
        plan.run(x, out, residual)
        self._last_hw, self._last_plan = x.shape[2:], plan
        return out

    @property
    def auto_candidates(self) -> list[str]:
        """The algorithms algo="auto" may use for this layer (runnable and accurate enough)."""
        return list(self._plan.auto_candidates())

    def _tuned_plan(self, x, out):
        """The plan of the fastest candidate for x's shape, measured once per process."""
        key = (self.weight.shape, self.stride, self.padding, self.dilation, self.groups, self.activation,
               x.shape, _C.active_isa(), _C.num_threads())
        plan = self._tuned_plans.get(x.shape)
        if plan is not None:
            return plan
        with _TUNE_LOCK:
            name = _TUNED.get(key)
            if name is None:
                plans = {cand: self._native(cand) for cand in self.auto_candidates}
                for p in plans.values():
                    p.run(x, out, None)  # warm-up: packs, allocates scratch
                # Rounds over all candidates, best of each: noise on a busy machine hits all alike.
                timings = dict.fromkeys(plans, float("inf"))
                for _ in range(_TUNE_ROUNDS):
                    for cand, p in plans.items():
                        t = time.perf_counter()
                        p.run(x, out, None)
                        timings[cand] = min(timings[cand], time.perf_counter() - t)
                name = _TUNED[key] = min(timings, key=timings.get)
            plan = self._tuned_plans[x.shape] = self._native(name)
        return plan

    def _native(self, algo):
        return _C.ConvPlan(self.weight, self.bias, self.in_channels, self.stride, self.dilation, self.padding,
                           self.groups, *self.activation, algo)

    def __repr__(self):
        return (f"ConvPlan(weight={self.weight.shape}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, groups={self.groups}, activation={self.activation[0]!r}, "
                f"algo={self.algo_preference!r})")


@dispatched("conv2d")
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None, residual=None,
           algo: str = "auto", out=None) -> np.ndarray:
    """2-D convolution, NCHW float32: activation(conv(x, weight) + bias + residual).

    Builds a ConvPlan per call; build one yourself to run a layer many times.
    """
    x = as_float32(x, "x", ndim=4)
    weight = as_float32(weight, "weight", ndim=4)
    if isinstance(groups, int) and groups >= 1 and x.shape[1] != weight.shape[1] * groups:
        raise ValueError(f"x has {x.shape[1]} channels (shape {x.shape}) but weight {weight.shape} with "
                         f"groups={groups} expects {weight.shape[1] * groups}")
    plan = ConvPlan(weight, bias, stride, padding, dilation, groups, activation, algo)
    return plan(x, residual=residual, out=out)

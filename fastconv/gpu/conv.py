"""2-D convolution on CuPy arrays (NCHW float32): a plan that uploads and transforms the weights
once, then runs on CuPy's current stream with no host synchronisation.

Algorithms (fastconv/gpu/_geometry.py choose_algo says when each is picked, and why):
  im2col     fc_im2col (kernels/im2col.cu), strided-batched cuBLAS GEMMs (_blas.py), fc_channel_epilogue
  pointwise  1x1 stride 1: the GEMM reads the input as it lies, then the epilogue
  winograd   F(2x2,3x3): fc_winograd_f2x3_input, 16 batched GEMMs, fc_winograd_f2x3_output (fused epilogue)
  depthwise  fc_dwconv2d, direct with the epilogue fused
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from . import _blas, _geometry, _math
from ._arrays import as_gpu_float32, current_device, output, ptr
from ._backend import kernel, require_device

__all__ = ["ConvPlan", "conv2d"]

_i32, _i64, _f32 = np.int32, np.int64, np.float32


def channel_epilogue(x, y, scale, shift, residual, act_code: int, alpha: float, beta: float):
    """y = act(x * scale[c] + shift[c] + residual) over NC... arrays (x may be y: in place)."""
    k, plane = x.shape[1], int(np.prod(x.shape[2:], dtype=np.int64))
    aligned = all(a is None or a.data.ptr % 16 == 0 for a in (x, y, residual))
    vec = plane % 4 == 0 and aligned   # then 4 neighbours share a channel: 16-byte accesses
    name = "fc_channel_epilogue_vec4" if vec else "fc_channel_epilogue"
    total = x.size // 4 if vec else x.size
    grid, block = _geometry.grid_for(total)
    kernel("epilogue.cu", name)(grid, block, (x, y, ptr(scale), ptr(shift), ptr(residual), _i64(total), _i32(k),
                                              _i64(plane // 4 if vec else plane), _i32(act_code), _f32(alpha),
                                              _f32(beta)))


def _epilogue(y, bias, residual, act_code: int, alpha: float, beta: float):
    """In place on the GEMM output y (n, K, OH, OW): act(y + bias + residual)."""
    if act_code != 0 or bias is not None or residual is not None:
        channel_epilogue(y, y, None, bias, residual, act_code, alpha, beta)


class ConvPlan:
    """A convolution layer on the GPU: weights uploaded (and, for Winograd, transformed) once.

    Same arguments as fastconv.ConvPlan, plus:
      batch_norm: optional (gamma, beta, mean, var, eps) of a BatchNormalization that follows the
        convolution; it is folded into the weights and bias here (exact in real arithmetic).
      allow_tf32: let cuBLAS use TF32 tensor cores (~3x faster GEMMs, ~1e-3 relative error).
    Calling the plan on x (N, C, H, W) (cupy; numpy is uploaded) returns a cupy array
    activation(conv(x) + bias + residual) on the plan's device. Work is queued on CuPy's current
    stream; the call returns without waiting for it.
    """

    def __init__(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None,
                 algo: str = "auto", *, batch_norm=None, allow_tf32: bool = False):
        cp = require_device()
        self.device = current_device()
        weight = as_gpu_float32(weight, "weight", ndim=4)
        if bias is not None:
            bias = as_gpu_float32(bias, "bias", ndim=1)
        _checks.check_conv_layer(weight.shape, groups, None if bias is None else bias.shape)
        k = weight.shape[0]
        if batch_norm is not None:
            if len(batch_norm) != 5:
                raise ValueError("batch_norm must be (gamma, beta, mean, var, eps)")
            *params, eps = batch_norm
            params = [as_gpu_float32(p, name, ndim=1) for p, name in zip(params, ("gamma", "beta", "mean", "var"))]
            if any(p.shape[0] != k for p in params):
                raise ValueError(f"batch_norm parameters have shapes {[p.shape for p in params]}, expected ({k},)")
            weight, bias = _math.fold_into_conv(weight, bias, *_math.fold_batch_norm(cp, *params, float(eps)))
            weight, bias = cp.ascontiguousarray(weight), cp.ascontiguousarray(bias)
        self.weight, self.bias, self.groups = weight, bias, groups
        self.stride = _checks.pair(stride, "stride")
        self.dilation = _checks.pair(dilation, "dilation")
        self.padding = _checks.pads4(padding)
        self.activation = _checks.activation(activation)
        self.allow_tf32 = bool(allow_tf32)
        self.in_channels = weight.shape[1] * groups

        # The algorithm depends only on the weights' shape and the hyper-parameters: choose it now.
        probe = self._geometry((1, self.in_channels) + self._min_input())
        if algo == "auto":
            self.algo = _geometry.choose_algo(probe)
        else:
            why = _geometry.algo_unsupported(algo, probe)
            if why:
                raise ValueError(f"algo={algo!r} cannot run this convolution (weight {tuple(weight.shape)}, "
                                 f"stride {self.stride}, dilation {self.dilation}, groups {groups}): {why}")
            self.algo = algo
        self._wmat = cp.ascontiguousarray(_math.grouped_weight_matrix(weight, groups))
        self._u = _math.winograd_f2x3_filter(cp, weight) if self.algo == "winograd" else None
        self._act = (_math.ACT_CODES[self.activation[0]],) + self.activation[1:]

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    def _min_input(self):
        kh, kw = self.weight.shape[2:]
        return (self.dilation[0] * (kh - 1) + 1, self.dilation[1] * (kw - 1) + 1)

    def _geometry(self, x_shape) -> _geometry.ConvGeometry:
        return _geometry.conv_geometry(x_shape, self.weight.shape, self.stride, self.padding, self.dilation,
                                       self.groups)

    def algo_for(self, height: int, width: int) -> str:
        return self.algo

    def output_shape(self, input_shape) -> tuple[int, int, int, int]:
        g = self._geometry(input_shape)
        return g.n, g.k, g.oh, g.ow

    def __call__(self, x, residual=None, out=None):
        cp = require_device()
        x = as_gpu_float32(x, "x", ndim=4, device=self.device)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x has {x.shape[1]} channels (shape {x.shape}); the weight {tuple(self.weight.shape)} "
                             f"with groups={self.groups} expects {self.in_channels}")
        g = self._geometry(x.shape)
        shape = (g.n, g.k, g.oh, g.ow)
        _geometry.check_dims(shape, "the output")
        _geometry.check_gemm_dims(self.algo, g)
        if residual is not None:
            residual = as_gpu_float32(residual, "residual", ndim=4, device=self.device)
            if residual.shape != shape:
                raise ValueError(f"residual has shape {residual.shape}, the output has shape {shape}")
        out = output(out, shape, self.device)
        with cp.cuda.Device(self.device):
            getattr(self, "_run_" + self.algo)(x, g, residual, out)
        return out

    # ---- one method per algorithm: pointers and launches only ----

    def _run_im2col(self, x, g, residual, out):
        cp = require_device()
        per_image = _geometry.workspace_per_image("im2col", g)
        for a, b in _geometry.batch_chunks(g.n, per_image):
            cols = cp.empty((b - a, g.c * g.kh * g.kw, g.oh * g.ow), dtype=cp.float32)
            grid, block = _geometry.grid_for(cols.size)
            kernel("im2col.cu", "fc_im2col")(grid, block, (
                x[a:b], cols, _i32(b - a), _i32(g.c), _i32(g.h), _i32(g.w), _i32(g.kh), _i32(g.kw),
                _i32(g.stride[0]), _i32(g.stride[1]), _i32(g.dilation[0]), _i32(g.dilation[1]),
                _i32(g.pads[0]), _i32(g.pads[1]), _i32(g.oh), _i32(g.ow)))
            self._gemm(cols, out[a:b], g)
            _epilogue(out[a:b], self.bias, None if residual is None else residual[a:b], *self._act)

    def _run_pointwise(self, x, g, residual, out):
        if g.h * g.w == 1 and self.groups == 1:
            # A fully connected layer: one GEMM (N x C) @ W^T (C x K) reads the weights once.
            _blas.gemm(_blas.addr(x), _blas.addr(self._wmat), _blas.addr(out), g.n, g.k, g.c, trans_b=True,
                       tf32=self.allow_tf32)
        else:
            self._gemm(x, out, g)
        _epilogue(out, self.bias, residual, *self._act)

    def _gemm(self, cols, out, g):
        """out[i, group] = W[group] @ cols[i, group] for every image i: per group, one strided-batched
        GEMM over the images with the group's weights at stride 0. cols: (n, C/g*kh*kw*g, P)."""
        n, groups, p = cols.shape[0], self.groups, g.oh * g.ow
        kg, ckk = g.k // groups, self._wmat.shape[2]
        for gi in range(groups):
            _blas.gemm(_blas.addr(self._wmat, gi * kg * ckk), _blas.addr(cols, gi * ckk * p),
                       _blas.addr(out, gi * kg * p), kg, p, ckk, batch=n, stride_a=0, stride_b=groups * ckk * p,
                       stride_c=g.k * p, tf32=self.allow_tf32)

    def _run_winograd(self, x, g, residual, out):
        cp = require_device()
        th, tw = _geometry.winograd_tiles(g.oh, g.ow)
        per_image = _geometry.workspace_per_image("winograd", g)
        for a, b in _geometry.batch_chunks(g.n, per_image):
            tiles = (b - a) * th * tw
            v = cp.empty((16, g.c, tiles), dtype=cp.float32)
            grid, block = _geometry.grid_for(g.c * tiles)
            kernel("winograd.cu", "fc_winograd_f2x3_input")(grid, block, (
                x[a:b], v, _i32(b - a), _i32(g.c), _i32(g.h), _i32(g.w), _i32(g.pads[0]), _i32(g.pads[1]),
                _i32(th), _i32(tw)))
            m = cp.empty((16, g.k, tiles), dtype=cp.float32)
            _blas.gemm(_blas.addr(self._u), _blas.addr(v), _blas.addr(m), g.k, tiles, g.c, batch=16,
                       stride_a=g.k * g.c, stride_b=g.c * tiles, stride_c=g.k * tiles, tf32=self.allow_tf32)
            grid, block = _geometry.grid_for(g.k * tiles)
            kernel("winograd.cu", "fc_winograd_f2x3_output")(grid, block, (
                m, out[a:b], ptr(self.bias), ptr(None if residual is None else residual[a:b]), _i32(b - a),
                _i32(g.k), _i32(g.oh), _i32(g.ow), _i32(th), _i32(tw), *self._act_args()))

    def _run_depthwise(self, x, g, residual, out):
        grid, block = _geometry.grid_for(out.size)
        kernel("dwconv.cu", "fc_dwconv2d")(grid, block, (
            x, self.weight, ptr(self.bias), ptr(residual), out, _i32(g.n), _i32(g.c), _i32(g.h), _i32(g.w),
            _i32(g.k), _i32(g.kh), _i32(g.kw), _i32(g.stride[0]), _i32(g.stride[1]), _i32(g.dilation[0]),
            _i32(g.dilation[1]), _i32(g.pads[0]), _i32(g.pads[1]), _i32(g.oh), _i32(g.ow), *self._act_args()))

    def _act_args(self):
        code, alpha, beta = self._act
        return _i32(code), _f32(alpha), _f32(beta)

    def __repr__(self):
        return (f"fastconv.gpu.ConvPlan(weight={tuple(self.weight.shape)}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, "
                f"activation={self.activation[0]!r}, algo={self.algo!r}, allow_tf32={self.allow_tf32}, "
                f"device={self.device})")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None, residual=None,
           algo: str = "auto", out=None, *, allow_tf32: bool = False):
    """fastconv.conv2d on the GPU: activation(conv(x, weight) + bias + residual) as a cupy array.
    Builds a ConvPlan per call (uploads/transforms the weights); build one to run a layer often."""
    plan = ConvPlan(weight, bias, stride, padding, dilation, groups, activation, algo, allow_tf32=allow_tf32)
    return plan(x, residual=residual, out=out)

"""fastconv.gpu: the engine's operators on NVIDIA GPUs, CuPy arrays in and out.

    >>> import cupy as cp, fastconv.gpu as fg
    >>> plan = fg.ConvPlan(w, bias, padding=1, activation="relu")   # weights uploaded/transformed once
    >>> y = plan(cp.asarray(x))                                      # cupy array, stays on the GPU

fastconv's own functions (conv2d, ConvPlan, the pooling ops, batch_norm, the activations, softmax,
log_softmax, lrn) come here when given a CuPy array or device="cuda" (fastconv/_device.py).

The op namespace (same signatures and semantics as the CPU functions; InferenceSession(device="cuda")
runs these through fastconv/onnx/_ops_gpu.py, and so does Model / Sequential with device="cuda", as
the session over its graph):
  ConvPlan, conv2d          convolution: im2col + cuBLAS, 1x1 GEMM, Winograd F(2x2,3x3), depthwise;
                            fused bias / folded batch norm (ConvPlan(batch_norm=...)) / activation /
                            residual; allow_tf32=True opts in to TF32 GEMMs
  max_pool2d, avg_pool2d, global_avg_pool2d, global_max_pool2d, pool2d_output_shape
  batch_norm                inference, with an optional fused activation
  activation                activation(x, kind, *params): the same kinds as the conv epilogue
  softmax, log_softmax, lrn
  is_available()            CuPy and a CUDA device are usable (never raises)

Rules: inputs may be cupy arrays (or numpy, uploaded once) on the current CuPy device (plans: the
device they were built on; arrays elsewhere are refused with ValueError); float16/float64 are
converted to float32, non-contiguous arrays copied; `out=` must be a C-contiguous float32 cupy array
of the output's shape. Everything runs on CuPy's current stream and returns without synchronising.
Flat indices are 64-bit; a single dimension beyond 2**31 - 1 (or a GEMM size beyond cuBLAS's
int32) is refused. Plans hold no per-call state: several threads may run one plan, each on its
own stream. GEMMs are FP32 unless a plan is built with allow_tf32=True.

CuPy is imported on first use, never by `import fastconv` or `import fastconv.gpu`; without it
(or without a CUDA driver) the first call raises ImportError naming `pip install fastconv[gpu]`.
Kernels: fastconv/gpu/kernels/*.cu, compiled by NVRTC through cupy.RawModule once per device.
"""
from ._backend import is_available
from .conv import ConvPlan, conv2d
from .layers import (activation, avg_pool2d, batch_norm, global_avg_pool2d, global_max_pool2d, log_softmax, lrn,
                     max_pool2d, pool2d_output_shape, softmax)

__all__ = ["is_available", "ConvPlan", "conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d",
           "pool2d_output_shape", "batch_norm", "activation", "softmax", "log_softmax", "lrn"]

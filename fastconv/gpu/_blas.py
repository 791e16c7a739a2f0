"""Row-major batched SGEMM on cuBLAS (cublasGemmStridedBatchedEx through CuPy's bindings).

Why not cupy.matmul: with a broadcast operand (the weights, shared by every image) it builds
pointer arrays and calls sgemmBatched, which ignores CuPy's compute-type setting, so TF32 could
not be opted in per plan; and that setting is process-wide. Here one strided-batched call takes
the weights with stride 0, and the compute type (FP32, or TF32 when the plan allows it) is an
argument of the call: no global state, safe from several threads. The handle is CuPy's, and the
binding puts it on CuPy's current stream before each call.
"""
from __future__ import annotations

import numpy as np

from ._backend import require_device

CUBLAS_OP_N, CUBLAS_OP_T = 0, 1
CUDA_R_32F = 0
CUBLAS_COMPUTE_32F = 68             # cublasComputeType_t (cublas_api.h)
CUBLAS_COMPUTE_32F_FAST_TF32 = 77
CUBLAS_GEMM_DEFAULT = -1
_ONE = np.ones(1, np.float32)       # alpha, beta: host pointers (CuPy's handles use host pointer mode)
_ZERO = np.zeros(1, np.float32)


def gemm_args(m: int, n: int, k: int, *, trans_b: bool = False):
    """The column-major cuBLAS arguments for row-major C (m x n) = A (m x k) @ op(B) (k x n), with
    dense rows (lda = k, ldb = n, or k when B is stored n x k and transposed, ldc = n):
    C^T = op(B)^T A^T, so cuBLAS's first operand is B and its second is A.
    Returns (transa, transb, m', n', k', lda', ldb', ldc') in cuBLAS order."""
    return (CUBLAS_OP_T if trans_b else CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, k if trans_b else n, k, n)


def gemm(a_ptr: int, b_ptr: int, c_ptr: int, m: int, n: int, k: int, *, batch: int = 1, stride_a: int = 0,
         stride_b: int = 0, stride_c: int = 0, trans_b: bool = False, tf32: bool = False):
    """C[i] = A[i] @ op(B)[i] for i < batch, row-major float32 at device addresses; strides in
    elements (0: the same matrix for every i)."""
    cp = require_device()
    from cupy_backends.cuda.libs import cublas
    transa, transb, mm, nn, kk, lda, ldb, ldc = gemm_args(m, n, k, trans_b=trans_b)
    compute = CUBLAS_COMPUTE_32F_FAST_TF32 if tf32 else CUBLAS_COMPUTE_32F
    cublas.gemmStridedBatchedEx(
        cp.cuda.device.get_cublas_handle(), transa, transb, mm, nn, kk, _ONE.ctypes.data,
        b_ptr, CUDA_R_32F, lda, stride_b, a_ptr, CUDA_R_32F, ldb, stride_a, _ZERO.ctypes.data,
        c_ptr, CUDA_R_32F, ldc, stride_c, batch, compute, CUBLAS_GEMM_DEFAULT)


def addr(a, offset_elements: int = 0) -> int:
    """Device address of element `offset_elements` of a float32 cupy array."""
    return a.data.ptr + 4 * offset_elements

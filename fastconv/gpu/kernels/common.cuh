// Shared by every fastconv GPU kernel: the 64-bit index type, the grid-stride loop and the
// activation formulas. Plain CUDA with no standard headers, so NVRTC compiles it as it is.
#pragma once

// Element counts can exceed 2^31 (a batch-64 VGG activation is ~200M floats, im2col buffers more):
// every flat index is 64-bit so no shape overflows silently.
typedef long long idx_t;

// Each thread walks the flat range [0, n) with the grid's stride, so the grid size is a launch
// choice (fastconv/gpu/_geometry.py caps it) and never limits the problem size.
#define FC_GRID_STRIDE_LOOP(i, n)                                              \
  for (idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);      \
       i += (idx_t)gridDim.x * blockDim.x)

// Flat-index division: 64-bit integer division is a long software sequence on GPUs, 32-bit is
// a few instructions, and indices below 2^31 are the common case (the branch is uniform unless a
// warp straddles 2^31). Both operands must be >= 0.
__device__ __forceinline__ idx_t fc_div(idx_t a, idx_t b) {
  return ((a | b) >> 31) == 0 ? (idx_t)((unsigned)a / (unsigned)b) : a / b;
}
__device__ __forceinline__ idx_t fc_mod(idx_t a, idx_t b) {
  return ((a | b) >> 31) == 0 ? (idx_t)((unsigned)a % (unsigned)b) : a % b;
}

// Activation kinds, numbered as fc::ActKind in csrc/act/act-params.h (fastconv/gpu/_math.py
// ACT_CODES mirrors this list; a host test checks the three agree).
#define FC_ACT_NONE 0
#define FC_ACT_RELU 1
#define FC_ACT_CLIP 2
#define FC_ACT_LEAKY_RELU 3
#define FC_ACT_SIGMOID 4
#define FC_ACT_TANH 5
#define FC_ACT_SILU 6
#define FC_ACT_HARD_SIGMOID 7
#define FC_ACT_HARD_SWISH 8
#define FC_ACT_ELU 9
#define FC_ACT_SOFTPLUS 10

// The kind is the same for a whole launch, so the switch never diverges within a warp.
// CUDA's expf/tanhf/expm1f/log1pf are within 2 ulp (no --use_fast_math anywhere).
__device__ __forceinline__ float fc_activate(float x, int kind, float alpha, float beta) {
  switch (kind) {
    case FC_ACT_RELU: return fmaxf(x, 0.f);
    case FC_ACT_CLIP: return fminf(fmaxf(x, alpha), beta);
    case FC_ACT_LEAKY_RELU: return x >= 0.f ? x : alpha * x;
    case FC_ACT_SIGMOID: return 1.f / (1.f + expf(-x));
    case FC_ACT_TANH: return tanhf(x);
    case FC_ACT_SILU: return x / (1.f + expf(-x));
    case FC_ACT_HARD_SIGMOID: return fminf(fmaxf(alpha * x + beta, 0.f), 1.f);
    case FC_ACT_HARD_SWISH: return x * fminf(fmaxf(x * (1.f / 6.f) + 0.5f, 0.f), 1.f);
    case FC_ACT_ELU: return x >= 0.f ? x : alpha * expm1f(x);
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x.
    case FC_ACT_SOFTPLUS: return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));
    default: return x;
  }
}

// Softmax along one axis of a tensor seen as (outer, length, inner): y = exp(x - max) / sum,
// or with log_out its logarithm, x - max - log(sum), computed directly (no log of a rounded
// quotient). Subtracting the max keeps exp in range; the sum is over values <= 1, so no overflow.
#include "common.cuh"

// inner == 1 (the last axis): one block per row, block-wide max and sum in shared memory.
// Launch with 256 threads.
extern "C" __global__ void fc_softmax_lastaxis(const float* __restrict__ x, float* __restrict__ y,
                                               idx_t rows, idx_t length, int log_out) {
  __shared__ float red[256];
  for (idx_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* src = x + row * length;
    float* dst = y + row * length;
    float m = -__int_as_float(0x7f800000);
    for (idx_t j = threadIdx.x; j < length; j += blockDim.x) m = fmaxf(m, src[j]);
    red[threadIdx.x] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
      __syncthreads();
    }
    m = red[0];
    __syncthreads();
    float sum = 0.f;
    for (idx_t j = threadIdx.x; j < length; j += blockDim.x) sum += expf(src[j] - m);
    red[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
      __syncthreads();
    }
    float inv = 1.f / red[0], shift = m + logf(red[0]);
    __syncthreads();  // red[0] is read by all before the next row overwrites it
    for (idx_t j = threadIdx.x; j < length; j += blockDim.x)
      dst[j] = log_out ? src[j] - shift : expf(src[j] - m) * inv;
  }
}

// inner > 1 (e.g. channels of NCHW): one thread per (outer, inner) column, three passes over
// the axis; neighbouring threads read neighbouring inner positions (coalesced).
extern "C" __global__ void fc_softmax_strided(const float* __restrict__ x, float* __restrict__ y,
                                              idx_t outer, idx_t length, idx_t inner,
                                              int log_out) {
  FC_GRID_STRIDE_LOOP(i, outer * inner) {
    idx_t base = (i / inner) * length * inner + i % inner;
    float m = -__int_as_float(0x7f800000);
    for (idx_t j = 0; j < length; ++j) m = fmaxf(m, x[base + j * inner]);
    float sum = 0.f;
    for (idx_t j = 0; j < length; ++j) sum += expf(x[base + j * inner] - m);
    float inv = 1.f / sum, shift = m + logf(sum);
    for (idx_t j = 0; j < length; ++j)
      y[base + j * inner] = log_out ? x[base + j * inner] - shift : expf(x[base + j * inner] - m) * inv;
  }
}

// Lets a fastconv CUDA kernel file compile as plain C++ for tests/test_gpu_emulated.py: one
// "thread" (blockIdx = threadIdx = 0, blockDim = gridDim = 1) runs every grid-stride loop over the
// whole range, so the kernels' index math and arithmetic run on the CPU, exactly as written.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

struct fc_dim3 { unsigned x, y, z; };
static fc_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0}, blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
struct float4 { float x, y, z, w; };
inline float4 make_float4(float a, float b, float c, float d) { return float4{a, b, c, d}; }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, sizeof f); return f; }
inline void __syncthreads() {}
using std::max;
using std::min;
// Cross-lane exchange has no one-thread equivalent; fc_global_pool skips it when a block has
// one lane, so reaching this is a bug in the emulation.
inline float __shfl_xor_sync(unsigned, float, int) { std::abort(); }

// One input row split into its column phases (phase q of stride s: columns q, q + s, ...),
// shared by the convolutions that copy a strided input once: im2col's phase planes
// (conv-gemm.cc) and the implicit GEMM's padded input (conv-implicit.cc).
#pragma once
#include <algorithm>
#include <cstddef>

#include "conv/im2col-kernels.h"

namespace fc {

// Strides up to this are split by repeated halving (AlexNet's stem: 4).
constexpr size_t kMaxHalvedStride = 16;

// at[q][b] = row[b * stride + q] for b < len[q], built by halving: even and odd columns (in
// registers, Im2colKernels::deinterleave), then each of those again, until the stride.
struct RowPhases {
  const float* at[kMaxHalvedStride];
  size_t len[kMaxHalvedStride];

  // Floats of scratch build() needs for a row of n (each level's halves, rounded up, ping-pong).
  static size_t scratch_floats(size_t n) { return 2 * (n + kMaxHalvedStride); }

  // False (and nothing built) unless stride is a power of two <= kMaxHalvedStride. With `out`
  // (stride > 1), the last level writes phase q to out[q] instead of scratch, out_len values
  // (zeros past the row's end; out_len >= len[q]).
  bool build(const Im2colKernels& k, const float* row, size_t n, size_t stride, float* scratch,
             float* const* out = nullptr, size_t out_len = 0) {
    if (stride > kMaxHalvedStride || (stride & (stride - 1)) != 0) return false;
    at[0] = row, len[0] = n;
    float* level[2] = {scratch, scratch + n + kMaxHalvedStride};
    for (size_t s = 1, cur = 0; s < stride; s *= 2, cur ^= 1) {
      // Phase q of stride s splits into phases q (even) and q + s (odd) of stride 2s.
      const float* from[kMaxHalvedStride];
      size_t from_len[kMaxHalvedStride];
      std::copy(at, at + s, from);
      std::copy(len, len + s, from_len);
      const bool last = out && 2 * s == stride;
      float* next = level[cur];
      for (size_t q = 0; q < s; ++q) {
        const size_t half = (from_len[q] + 1) / 2, width = last ? out_len : half;
        float* even = last ? out[q] : next;
        float* odd = last ? out[q + s] : next + half;
        k.deinterleave(from[q], from_len[q], width, even, odd);
        at[q] = even, len[q] = half;
        at[q + s] = odd, len[q + s] = from_len[q] / 2;
        next += 2 * half;
      }
    }
    return true;
  }
};

}  // namespace fc

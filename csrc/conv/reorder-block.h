// One block of up to 16 channels of one image, NCHW planes <-> blocked positions
// (convc-kernels.h): the copy at the edges of a blocked graph and around the direct
// convolution of NCHW callers. Where V transposes 8 x 16 in registers, whole blocks go
// 16 (to blocked) or 8 (from blocked) positions at a time, read and written in whole
// vectors; other ISAs and partial blocks copy element by element.
#pragma once
#include <cstddef>

#include "conv/convc-kernels.h"
#include "simd/v-traits.h"

namespace fc {

// to_blocked: src holds `lanes` planes `stride` floats apart, of which the first `count`
// positions go to dst (count x 16, padding lanes zero); else the reverse (dst's planes
// `stride` apart, padding lanes not read).
template <class V, bool ToBlocked>
void reorder_block(const float* src, float* dst, size_t count, size_t stride, size_t lanes) {
  constexpr size_t B = kChannelBlock;
  size_t p = 0;
  if constexpr (has_transpose_8x16<V>::value) {
    if (lanes == B) {
      typename V::reg r[8];
      if constexpr (ToBlocked) {
        for (; p + 16 <= count; p += 16)
          for (size_t h = 0; h < 2; ++h) {
            for (size_t i = 0; i < 8; ++i) r[i] = V::load(src + (8 * h + i) * stride + p);
            V::transpose_8x16(r, dst + p * B + 8 * h, B);
          }
      } else {
        for (; p + 8 <= count; p += 8) {
          for (size_t i = 0; i < 8; ++i) r[i] = V::load(src + (p + i) * B);
          V::transpose_8x16(r, dst + p, stride);
        }
      }
    }
  }
  for (; p < count; ++p)
    for (size_t c = 0; c < B; ++c) {
      if constexpr (ToBlocked)
        dst[p * B + c] = c < lanes ? src[c * stride + p] : 0.f;
      else if (c < lanes)
        dst[c * stride + p] = src[p * B + c];
    }
}

template <class V>
ReorderKernels reorder_table() {
  return {&reorder_block<V, true>, &reorder_block<V, false>};
}

}  // namespace fc

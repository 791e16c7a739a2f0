// Copies between NCHW and the channel-blocked layout (convc-kernels.h), at the edges of a
// graph's blocked part. Positions go 16 at a time through a 16 x 16 tile on the stack, so
// both sides are read and written in whole cache lines.
#include <algorithm>

#include "common/check.h"
#include "common/parallel.h"
#include "conv/convc-kernels.h"

namespace fc {

namespace {

constexpr size_t B = kChannelBlock;

// One block of 16 channels of one image: plane (16 rows of hw) <-> blocked (hw x 16).
template <bool ToBlocked>
void reorder_block(const float* src, float* dst, size_t hw) {
  size_t p = 0;
  for (; p + B <= hw; p += B) {
    if constexpr (ToBlocked) {
      for (size_t q = 0; q < B; ++q)
        for (size_t c = 0; c < B; ++c) dst[(p + q) * B + c] = src[c * hw + p + q];
    } else {
      for (size_t c = 0; c < B; ++c)
        for (size_t q = 0; q < B; ++q) dst[c * hw + p + q] = src[(p + q) * B + c];
    }
  }
  for (; p < hw; ++p)
    for (size_t c = 0; c < B; ++c) {
      if constexpr (ToBlocked)
        dst[p * B + c] = src[c * hw + p];
      else
        dst[c * hw + p] = src[p * B + c];
    }
}

template <bool ToBlocked>
void reorder(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image, int nthreads) {
  FC_CHECK(c % B == 0, "a blocked tensor needs a multiple of ", B, " channels, got ", c);
  FC_CHECK(x_image >= c * hw && y_image >= c * hw, "images overlap: ", x_image, " and ", y_image, " floats apart for ",
           c * hw, " floats each");
  const size_t blocks = c / B;
  parallel_for_items(n * blocks, B * hw, nthreads, [&](size_t i) {
    const size_t b = i / blocks, k = i % blocks;
    reorder_block<ToBlocked>(x + b * x_image + k * B * hw, y + b * y_image + k * B * hw, hw);
  });
}

}  // namespace

void nchw_to_blocked(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image,
                     int nthreads) {
  reorder<true>(x, n, c, hw, x_image, y, y_image, nthreads);
}

void blocked_to_nchw(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image,
                     int nthreads) {
  reorder<false>(x, n, c, hw, x_image, y, y_image, nthreads);
}

}  // namespace fc

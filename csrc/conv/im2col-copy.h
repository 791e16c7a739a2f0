// The im2col copy kernels (contracts in im2col-kernels.h) over vector traits V.
#pragma once
#include <algorithm>
#include <cstddef>

#include "simd/v-traits.h"

template <class V>
inline void im2col_segment(float* dst, const float* src, size_t lo, size_t hi, size_t n) {
  constexpr ptrdiff_t W = V::W;
  const ptrdiff_t l = static_cast<ptrdiff_t>(lo), h = static_cast<ptrdiff_t>(std::max(lo, hi));
  const ptrdiff_t count = static_cast<ptrdiff_t>(n);
  ptrdiff_t i = 0;
  for (; i + W <= count; i += W) {
    if (i >= l && i + W <= h) {
      V::store(dst + i, V::load(src + i));
    } else {
      const ptrdiff_t a = std::clamp<ptrdiff_t>(l - i, 0, W), b = std::clamp<ptrdiff_t>(h - i, a, W);
      V::store(dst + i, a < b ? V::load_range(src + i, static_cast<int>(a), static_cast<int>(b)) : V::set1(0.f));
    }
  }
  if (i < count) {
    const ptrdiff_t lanes = count - i;
    const ptrdiff_t a = std::clamp<ptrdiff_t>(l - i, 0, lanes), b = std::clamp<ptrdiff_t>(h - i, a, lanes);
    const typename V::reg x = a < b ? V::load_range(src + i, static_cast<int>(a), static_cast<int>(b)) : V::set1(0.f);
    V::store_n(dst + i, x, static_cast<int>(lanes));
  }
}

template <class V>
inline void im2col_scatter(const float* row, size_t panels, size_t nr, size_t stride, float* dst) {
  constexpr size_t W = V::W;
  const size_t whole = nr / W * W;
  for (size_t p = 0; p < panels; ++p, row += nr, dst += stride) {
    for (size_t i = 0; i < whole; i += W) V::store(dst + i, V::load(row + i));
    if (whole < nr) V::store_n(dst + whole, V::load_n(row + whole, static_cast<int>(nr - whole)), static_cast<int>(nr - whole));
  }
}

template <class V>
inline void im2col_deinterleave(const float* src, size_t n, size_t wq, float* even, float* odd) {
  constexpr size_t W = V::W;
  typename V::reg e, o;
  size_t j = 0;
  for (; 2 * j + 2 * W <= n; j += W) {
    V::deinterleave(V::load(src + 2 * j), V::load(src + 2 * j + W), e, o);
    V::store(even + j, e);
    V::store(odd + j, o);
  }
  for (; j < wq; j += W) {  // the row's end: masked loads read nothing past n, and give the zeros
    const size_t r = n > 2 * j ? n - 2 * j : 0;
    V::deinterleave(V::load_n(src + 2 * j, static_cast<int>(r < W ? r : W)),
                    V::load_n(src + 2 * j + W, static_cast<int>(r > W ? r - W : 0)), e, o);
    const int m = static_cast<int>(wq - j < W ? wq - j : W);
    V::store_n(even + j, e, m);
    V::store_n(odd + j, o, m);
  }
}

// Blocks of 8 channels x W positions go through V's in-register transpose where it has one
// (at step 2 each channel's row is first split in registers, its odd phase dropped); the
// other channels and positions are copied element by element, channels innermost in
// blocks of 16 so each channel row is read sequentially.
template <class V>
inline void im2col_channels_last(const float* src, size_t plane, size_t step, size_t width, size_t n,
                                 size_t channels, float* dst, size_t ld) {
  size_t c0 = 0;
  if constexpr (has_transpose_8x16<V>::value) {
    constexpr size_t W = V::W;
    if (step <= 2) {
      // Whole blocks of W positions whose loads (W floats, 2W at step 2) stay inside the row.
      const size_t blocks = width >= W * step ? std::min(n / W, (width - W * step) / step / W + 1) : 0;
      const size_t vec_n = blocks * W;
      for (; c0 + 8 <= channels; c0 += 8) {
        for (size_t x = 0; x < vec_n; x += W) {
          typename V::reg rows[8];
          for (int i = 0; i < 8; ++i) {
            const float* s = src + (c0 + i) * plane + x * step;
            if (step == 1) {
              rows[i] = V::load(s);
            } else {
              typename V::reg odd;
              V::deinterleave(V::load(s), V::load(s + W), rows[i], odd);
            }
          }
          V::transpose_8x16(rows, dst + x * ld + c0, ld);
        }
        for (size_t x = vec_n; x < n; ++x)
          for (size_t i = 0; i < 8; ++i) dst[x * ld + c0 + i] = src[(c0 + i) * plane + x * step];
      }
    }
  }
  for (; c0 < channels; c0 += 16) {
    const size_t c1 = std::min(c0 + 16, channels);
    for (size_t x = 0; x < n; ++x)
      for (size_t c = c0; c < c1; ++c) dst[x * ld + c] = src[c * plane + x * step];
  }
}

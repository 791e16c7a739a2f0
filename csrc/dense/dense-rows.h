// Dense layer for a small batch over vector traits V: each weight row is streamed once per
// group of kBatch inputs (from L2 after the first), dotted with kRows x kBatch vector
// accumulators; packing would cost as much traffic as the whole product at this size.
#pragma once
#include <cstddef>

#include "act/act-math.h"
#include "dense/dense-kernels.h"
#include "simd/v-reduce.h"

template <class V>
struct DenseRows {
  using reg = typename V::reg;
  static constexpr int W = V::W;
  static constexpr int kRows = 4;   // weight rows per block: 4 x 4 accumulators + 8 loads fit 32 registers
  static constexpr int kBatch = 4;  // inputs per pass over a row block


  template <int R, int B>
  static inline void tile(const fc::DenseRowsArgs& a, size_t o, size_t b) {
    reg acc[R][B];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < B; ++j) acc[r][j] = V::set1(0.f);
    const float* w = a.w + o * a.in;
    const float* x = a.x + b * a.in;
    size_t k = 0;
    for (; k + W <= a.in; k += W) {
      reg xv[B];
      for (int j = 0; j < B; ++j) xv[j] = V::load(x + j * a.in + k);
      for (int r = 0; r < R; ++r) {
        const reg wv = V::load(w + r * a.in + k);
        for (int j = 0; j < B; ++j) acc[r][j] = V::fma(wv, xv[j], acc[r][j]);
      }
    }
    if (k < a.in) {
      const int rest = static_cast<int>(a.in - k);
      reg xv[B];
      for (int j = 0; j < B; ++j) xv[j] = V::load_n(x + j * a.in + k, rest);
      for (int r = 0; r < R; ++r) {
        const reg wv = V::load_n(w + r * a.in + k, rest);
        for (int j = 0; j < B; ++j) acc[r][j] = V::fma(wv, xv[j], acc[r][j]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < B; ++j) a.y[(b + j) * a.out + o + r] = v_hsum<V>(acc[r][j]) + (a.bias ? a.bias[o + r] : 0.f);
  }

  template <int R>
  static inline void row_block(const fc::DenseRowsArgs& a, size_t o) {
    size_t b = 0;
    for (; b + kBatch <= a.n; b += kBatch) tile<R, kBatch>(a, o, b);
    switch (a.n - b) {
      case 3: tile<R, 3>(a, o, b); break;
      case 2: tile<R, 2>(a, o, b); break;
      case 1: tile<R, 1>(a, o, b); break;
      default: break;
    }
  }

  static void run(const fc::DenseRowsArgs& a) {
    size_t o = a.o0;
    for (; o + kRows <= a.o1; o += kRows) row_block<kRows>(a, o);
    for (; o < a.o1; ++o) row_block<1>(a, o);
    for (size_t b = 0; b < a.n; ++b) ActMath<V>::apply_array(a.act, a.y + b * a.out + a.o0, a.o1 - a.o0);
  }
};

// The blocked Winograd transforms (winograd-blocked.h) over vector traits V: the 1-D
// transforms of winograd-transforms.h applied to rows, then to columns, of a tile's
// alpha x alpha channel vectors (16 / V::W vectors per tile and block).
#pragma once
#include <cstddef>

#include "conv/winograd-blocked.h"
#include "conv/winograd-transforms.h"
#include "gemm/gemm-tile.h"

namespace fc {

template <class V, int M>
void wino_blocked_input(const WinoBlockedInput& a) {
  constexpr int A = WinogradMatrices<M>::kAlpha, B = 16, W = V::W;
  using reg = typename V::reg;
  const ptrdiff_t h = static_cast<ptrdiff_t>(a.h), w = static_cast<ptrdiff_t>(a.w);
  for (size_t u = 0; u < a.tiles; ++u) {
    const ptrdiff_t ix0 = a.ix0 + static_cast<ptrdiff_t>(u) * M;
    const bool inside = a.iy0 >= 0 && ix0 >= 0 && a.iy0 + A <= h && ix0 + A <= w;
    for (int q = 0; q < B / W; ++q) {
      reg d[A][A], t[A][A];
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) {
          const ptrdiff_t iy = a.iy0 + i, ix = ix0 + j;
          d[i][j] = inside || (iy >= 0 && iy < h && ix >= 0 && ix < w) ? V::load(a.x + (iy * w + ix) * B + q * W)
                                                                         : V::set1(0.f);
        }
      for (int i = 0; i < A; ++i) WinogradMatrices<M>::template input<V>(d[i], t[i]);  // along columns
      for (int j = 0; j < A; ++j) {  // along rows
        reg col[A], out[A];
        for (int i = 0; i < A; ++i) col[i] = t[i][j];
        WinogradMatrices<M>::template input<V>(col, out);
        for (int i = 0; i < A; ++i) V::store(a.v + (i * A + j) * a.v_xi + u * a.v_tile + q * W, out[i]);
      }
    }
  }
}

template <class V, int M>
void wino_blocked_output(const WinoBlockedOutput& a) {
  constexpr int A = WinogradMatrices<M>::kAlpha, B = 16, W = V::W;
  using reg = typename V::reg;
  for (size_t u = 0; u < a.tiles; ++u) {
    const size_t ox0 = a.ox0 + u * M;
    for (int q = 0; q < B / W; ++q) {
      reg t[A][M];
      for (int i = 0; i < A; ++i) {  // along columns
        reg row[A];
        for (int j = 0; j < A; ++j) row[j] = V::load(a.m + (i * A + j) * a.m_xi + u * a.m_tile + q * W);
        WinogradMatrices<M>::template output<V>(row, t[i]);
      }
      const reg bias = V::load(a.bias + q * W);
      for (int j = 0; j < M; ++j) {  // along rows
        if (ox0 + j >= a.ow) break;
        reg col[A], out[M];
        for (int i = 0; i < A; ++i) col[i] = t[i][j];
        WinogradMatrices<M>::template output<V>(col, out);
        for (int i = 0; i < M; ++i) {
          if (a.oy0 + i >= a.oh) break;
          const size_t at = ((a.oy0 + i) * a.ow + ox0 + j) * B + q * W;
          store_lanes<V>(out[i], a.y + at, 0, W, bias, a.residual ? a.residual + at : nullptr, a.epilogue);
        }
      }
    }
  }
}

template <class V>
WinoBlockedKernels wino_blocked_table() {
  WinoBlockedKernels k{};
  k.input[2] = &wino_blocked_input<V, 2>;
  k.input[3] = &wino_blocked_input<V, 3>;
  k.input[4] = &wino_blocked_input<V, 4>;
  k.input[6] = &wino_blocked_input<V, 6>;
  k.output[2] = &wino_blocked_output<V, 2>;
  k.output[3] = &wino_blocked_output<V, 3>;
  k.output[4] = &wino_blocked_output<V, 4>;
  k.output[6] = &wino_blocked_output<V, 6>;
  return k;
}

}  // namespace fc

// The blocked direct-convolution micro-kernel (contract in convc-kernels.h): RP positions x
// CB blocks of 16 output channels in registers; per input channel it loads the CB * 16
// weights once and broadcasts each position's input value, so no operand is packed per
// call: the blocked input is already laid out as a GEMM's packed A panel would be.
// L: input lanes per block, 16 (blocked input) or 1 (NCHW input, one channel per block).
// Each ISA file instantiates it through convc_table with its own vector traits.
#pragma once
#include <cstddef>
#include <utility>

#include "conv/convc-kernels.h"
#include "gemm/gemm-tile.h"

namespace fc {

template <class V, int RP, int CB, int S, int L, bool Prefetch = false>
void convc_tile(const ConvcTileArgs& a) {
  constexpr int W = V::W, BV = static_cast<int>(kChannelBlock) / W, NV = CB * BV;
  using reg = typename V::reg;
  reg acc[RP][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RP; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = V::set1(0.f);
  const float* wh = a.w;
  const float* xh = a.x;
  for (size_t th = 0; th < a.taps_h; ++th, wh += a.w_tap_h, xh += a.x_tap_h) {
    const float* wt = wh;
    const float* xt = xh;
    for (size_t tw = 0; tw < a.taps_w; ++tw, wt += a.w_tap_w, xt += a.x_tap_w) {
      const float* w = wt;
      const float* xb = xt;
      for (size_t cb = 0; cb < a.in_blocks; ++cb, xb += a.x_block) {
#pragma GCC unroll 16
        for (int c = 0; c < L; ++c, w += NV * W) {
          if constexpr (Prefetch)
#pragma GCC unroll 4
            for (int j = 0; j < CB; ++j) __builtin_prefetch(a.prefetch + (w - a.w) + j * kChannelBlock);
          reg wv[NV];
#pragma GCC unroll 16
          for (int v = 0; v < NV; ++v) wv[v] = V::load(w + v * W);
#pragma GCC unroll 16
          for (int r = 0; r < RP; ++r) {
            const reg b = V::set1(xb[r * S * L + c]);
#pragma GCC unroll 16
            for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(b, wv[v], acc[r][v]);
          }
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < CB; ++j)
#pragma GCC unroll 4
    for (int q = 0; q < BV; ++q) {
      const int lane0 = j * static_cast<int>(kChannelBlock) + q * W;
      const reg bias = V::load(a.bias + lane0);
#pragma GCC unroll 16
      for (int r = 0; r < RP; ++r) {
        const ptrdiff_t at = j * a.y_block + r * static_cast<ptrdiff_t>(kChannelBlock) + q * W;
        store_lanes<V>(acc[r][j * BV + q], a.y + at, 0, W, bias, a.residual ? a.residual + at : nullptr, a.epilogue);
      }
    }
}

// A table row: the instances for rp = 1 .. sizeof...(R) of one cb and stride, both inputs.
template <class V, int CB, int S, int... R>
constexpr void convc_fill_row(ConvcKernels& k, std::integer_sequence<int, R...>) {
  constexpr int L[kConvcInputs] = {static_cast<int>(kChannelBlock), 1};
  ((k.tile[kConvcBlockedInput][S - 1][CB - 1][R] = &convc_tile<V, R + 1, CB, S, L[0]>), ...);
  ((k.tile[kConvcNchwInput][S - 1][CB - 1][R] = &convc_tile<V, R + 1, CB, S, L[1]>), ...);
  k.tile_prefetch[kConvcBlockedInput][S - 1][CB - 1] = &convc_tile<V, sizeof...(R), CB, S, L[0], true>;
  k.tile_prefetch[kConvcNchwInput][S - 1][CB - 1] = &convc_tile<V, sizeof...(R), CB, S, L[1], true>;
}

template <class V, int CB, int RP>
constexpr void convc_fill_cb(ConvcKernels& k) {
  convc_fill_row<V, CB, 1>(k, std::make_integer_sequence<int, RP>{});
  convc_fill_row<V, CB, 2>(k, std::make_integer_sequence<int, RP>{});
  convc_fill_row<V, CB, 3>(k, std::make_integer_sequence<int, RP>{});
  convc_fill_row<V, CB, 4>(k, std::make_integer_sequence<int, RP>{});  // AlexNet's 11x11/4 stem
}

// The table for V: up to 4 blocks per tile, rp_max[cb - 1] positions for cb blocks (the
// accumulators, the cb weight vectors and a broadcast must fit the register file).
template <class V, int RP1, int RP2, int RP3, int RP4>
ConvcKernels convc_table(int preferred_cb) {
  ConvcKernels k{};
  k.preferred_cb = preferred_cb;
  k.max_rp[0] = RP1;
  k.max_rp[1] = RP2;
  k.max_rp[2] = RP3;
  k.max_rp[3] = RP4;
  convc_fill_cb<V, 1, RP1>(k);
  convc_fill_cb<V, 2, RP2>(k);
  convc_fill_cb<V, 3, RP3>(k);
  convc_fill_cb<V, 4, RP4>(k);
  return k;
}

}  // namespace fc

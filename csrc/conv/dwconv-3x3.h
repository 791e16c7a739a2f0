// The direct 3x3 depthwise plane (dilation 1, strides 1 or 2 each way) over vector traits V:
// no padded copy of the input, every tap read straight from the input rows.
//
// A tile is R output rows x NV vectors of output columns, accumulated in registers. Each
// input row the tile needs is loaded once and its three column taps feed every output row it
// belongs to (up to 3 at stride 1): a 4-row tile does 36 FMAs per 6 input rows instead of 9
// per 3. Stride 1 loads each centre vector once and shifts the taps between two of them in
// registers (V::shift_in); stride 2 splits two input vectors into even and odd columns
// (V::deinterleave). Rows above and below the image point at a zero row; columns left and
// right of it are masked loads (V::load_range) in the edge tiles only, so interior tiles have
// no bounds logic at all.
#pragma once
#include <cstddef>

#include "conv/dwconv-kernels.h"
#include "conv/dwconv-store.h"

namespace fc {

// Tile shape per vector width and row stride: R rows x NV vectors keeps R * NV accumulators,
// the 9 weights and the taps of one input row in the register file (32 zmm; 16 ymm/xmm, where
// NV = 1). Measured on Zen 4: 6 rows beat 4 by ~4% at stride 1 and lose ~10% at stride 2.
template <class V, int SH>
struct Dw3x3Tile {
  static constexpr int R = V::W >= 16 && SH == 1 ? 6 : 4;
  static constexpr int NV = V::W >= 16 ? 2 : 1;
};

// The loads of one input row for NV output vectors at c0, as offsets from SW * c0 - pl (the
// first input column): stride 1 loads each centre vector once plus the outer left and right
// taps (the taps between centre vectors are shifted in registers); stride 2 loads, per
// vector, two vectors split into taps 0/1 and two for tap 2.
template <int SW, int NV, int W>
constexpr int kDwLoads = SW == 1 ? NV + 2 : 4 * NV;
template <int SW, int NV, int W>
constexpr ptrdiff_t dw_load_at(int j) {
  if (SW == 1) return j < NV ? 1 + j * W : j == NV ? 0 : 2 + (NV - 1) * W;
  return 2 * (j / 4) * W + (j % 2) * W + (j % 4 >= 2) * 2;
}

// Load j of one input row; `row` is already offset to the tile's first input column. Edge
// tiles mask it to lanes [lo[j], hi[j]).
template <class V, int SW, int NV, bool kEdge>
inline typename V::reg dw3x3_load(const float* row, const int* lo, const int* hi, int j) {
  const float* p = row + dw_load_at<SW, NV, V::W>(j);
  return kEdge ? V::load_range(p, lo[j], hi[j]) : V::load(p);
}

// Stride 1: the three column taps x[v][0..2] of one input row for all NV vectors of the tile.
template <class V, int NV, bool kEdge>
inline void dw3x3_taps_s1(const float* row, const int* lo, const int* hi, typename V::reg (*x)[3]) {
  constexpr int W = V::W;
  typename V::reg c[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) c[v] = V::in_reg(dw3x3_load<V, 1, NV, kEdge>(row, lo, hi, v));
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int prev = v > 0 ? v - 1 : 0, next = v + 1 < NV ? v + 1 : v;
    x[v][0] = v == 0 ? V::in_reg(dw3x3_load<V, 1, NV, kEdge>(row, lo, hi, NV))
                     : V::template shift_in<W - 1>(c[prev], c[v]);
    x[v][1] = c[v];
    x[v][2] = v == NV - 1 ? V::in_reg(dw3x3_load<V, 1, NV, kEdge>(row, lo, hi, NV + 1))
                          : V::template shift_in<1>(c[v], c[next]);
  }
}

// Stride 2: the three column taps of one input row for vector v of the tile.
template <class V, int NV, bool kEdge>
inline void dw3x3_taps_s2(const float* row, const int* lo, const int* hi, int v, typename V::reg* x) {
  typename V::reg odd2;
  V::deinterleave(dw3x3_load<V, 2, NV, kEdge>(row, lo, hi, 4 * v), dw3x3_load<V, 2, NV, kEdge>(row, lo, hi, 4 * v + 1),
                  x[0], x[1]);
  V::deinterleave(dw3x3_load<V, 2, NV, kEdge>(row, lo, hi, 4 * v + 2),
                  dw3x3_load<V, 2, NV, kEdge>(row, lo, hi, 4 * v + 3), x[2], odd2);
}

// One tile: output rows oh .. oh + R - 1 (their input rows in `rows`) at columns c0 .. c0 + NV*W - 1.
// Interior tiles (!kEdge) read only inside the rows and write NV whole vectors; edge tiles
// mask the loads that leave the row and the stores past ow.
template <class V, int R, int NV, int SH, int SW, bool kEdge>
inline void dw3x3_tile(const typename V::reg* wt, typename V::reg bias, const float* const* rows, ptrdiff_t c0,
                       ptrdiff_t pl, ptrdiff_t w_in, size_t ow, float* const* out, const float* const* res) {
  using reg = typename V::reg;
  constexpr int W = V::W, kRows = (R - 1) * SH + 3, kLoads = kDwLoads<SW, NV, W>;
  const ptrdiff_t base = SW * c0 - pl;
  int lo[kLoads] = {}, hi[kLoads] = {};
  if (kEdge) {
    for (int j = 0; j < kLoads; ++j) {
      const ptrdiff_t at = base + dw_load_at<SW, NV, W>(j);
      lo[j] = static_cast<int>(at >= 0 ? 0 : -at < W ? -at : W);
      hi[j] = static_cast<int>(w_in - at >= W ? W : w_in - at > 0 ? w_in - at : 0);
    }
  }
  reg acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = bias;
#pragma GCC unroll 16
  for (int i = 0; i < kRows; ++i) {
    reg x[NV][3];
    if constexpr (SW == 1) dw3x3_taps_s1<V, NV, kEdge>(rows[i] + base, lo, hi, x);
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if constexpr (SW == 2) dw3x3_taps_s2<V, NV, kEdge>(rows[i] + base, lo, hi, v, x[v]);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const int k = i - r * SH;  // kernel row of input row i for output row r
        if (k < 0 || k > 2) continue;
#pragma GCC unroll 3
        for (int s = 0; s < 3; ++s) acc[r][v] = V::fma(wt[k * 3 + s], x[v][s], acc[r][v]);
      }
    }
  }
  if (kEdge) {
#pragma GCC unroll 4
    for (int v = 0; v < NV && c0 + v * W < static_cast<ptrdiff_t>(ow); ++v)
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) dw_store<V>(acc[r][v], c0 + v * W, ow, out[r], res ? res[r] : nullptr);
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      reg y = acc[r][v];
      if (res) y = V::add(y, V::load(res[r] + c0 + v * W));
      V::store(out[r] + c0 + v * W, y);
    }
}

// Output rows oh .. oh + R - 1 across the whole width in NV-vector tiles (one vector for the
// last W columns or fewer); only tiles whose loads leave the row take the masked path.
template <class V, int R, int SH, int SW>
inline void dw3x3_rows(const fc::ConvParams& p, const fc::DwPlaneArgs& a, const typename V::reg* wt,
                       typename V::reg bias, const float* zero_row, size_t oh) {
  constexpr int W = V::W, NV = Dw3x3Tile<V, SH>::NV, kRows = (R - 1) * SH + 3;
  const ptrdiff_t pl = p.pad_left, w_in = a.w_in, ow = a.ow;
  const float* rows[kRows];
  for (int i = 0; i < kRows; ++i) {
    const ptrdiff_t ih = static_cast<ptrdiff_t>(oh) * SH - static_cast<ptrdiff_t>(p.pad_top) + i;
    rows[i] = ih >= 0 && ih < static_cast<ptrdiff_t>(a.h) ? a.x + ih * w_in : zero_row;
  }
  float* out[R];
  const float* res[R];
  for (int r = 0; r < R; ++r) {
    out[r] = a.y + (oh + r) * a.ow;
    res[r] = a.residual ? a.residual + (oh + r) * a.ow : nullptr;
  }
  const float* const* resp = a.residual ? res : nullptr;
  // A tile of n vectors at c0 reads input columns SW * c0 - pl .. SW * (c0 + n W) - pl + 1.
  auto inside = [&](ptrdiff_t c0, int n) { return SW * c0 - pl >= 0 && SW * (c0 + n * W) - pl + 1 < w_in; };
  for (ptrdiff_t c0 = 0; c0 < ow;) {
    // Masked stride-2 loads cost 4 per vector, so there the edge tiles are one vector wide.
    const bool wide = ow - c0 > W;
    if (wide && inside(c0, NV)) {
      dw3x3_tile<V, R, NV, SH, SW, false>(wt, bias, rows, c0, pl, w_in, a.ow, out, resp);
      c0 += NV * W;
    } else if (wide && SW == 1) {
      dw3x3_tile<V, R, NV, SH, SW, true>(wt, bias, rows, c0, pl, w_in, a.ow, out, resp);
      c0 += NV * W;
    } else {
      if (inside(c0, 1))
        dw3x3_tile<V, R, 1, SH, SW, false>(wt, bias, rows, c0, pl, w_in, a.ow, out, resp);
      else
        dw3x3_tile<V, R, 1, SH, SW, true>(wt, bias, rows, c0, pl, w_in, a.ow, out, resp);
      c0 += W;
    }
  }
}

// The last rows of the plane, fewer than a full tile: one tile of exactly `left` rows.
template <class V, int R, int SH, int SW>
inline void dw3x3_last_rows(const fc::ConvParams& p, const fc::DwPlaneArgs& a, const typename V::reg* wt,
                            typename V::reg bias, const float* zero_row, size_t oh, size_t left) {
  if constexpr (R > 0) {
    if (left == R) return dw3x3_rows<V, R, SH, SW>(p, a, wt, bias, zero_row, oh);
    dw3x3_last_rows<V, R - 1, SH, SW>(p, a, wt, bias, zero_row, oh, left);
  }
}

// Output rows [a.oh0, a.oh1) of the plane; `a.work` holds at least a.w_in floats for the zero row.
template <class V, int SH, int SW>
inline void dw3x3_plane(const fc::ConvParams& p, const fc::DwPlaneArgs& a) {
  using reg = typename V::reg;
  constexpr int R = Dw3x3Tile<V, SH>::R;
  reg wt[9];
  for (int t = 0; t < 9; ++t) wt[t] = V::set1(a.w[t]);
  const reg bias = V::set1(a.bias);
  float* zero_row = a.work;
  for (size_t j = 0; j < a.w_in; ++j) zero_row[j] = 0.f;
  size_t oh = a.oh0;
  for (; oh + R <= a.oh1; oh += R) dw3x3_rows<V, R, SH, SW>(p, a, wt, bias, zero_row, oh);
  dw3x3_last_rows<V, R - 1, SH, SW>(p, a, wt, bias, zero_row, oh, a.oh1 - oh);
}

template <class V>
inline void dw3x3_plane_direct(const fc::ConvParams& p, const fc::DwPlaneArgs& a) {
  if (p.stride_h == 1 && p.stride_w == 1) return dw3x3_plane<V, 1, 1>(p, a);
  if (p.stride_h == 1 && p.stride_w == 2) return dw3x3_plane<V, 1, 2>(p, a);
  if (p.stride_h == 2 && p.stride_w == 1) return dw3x3_plane<V, 2, 1>(p, a);
  return dw3x3_plane<V, 2, 2>(p, a);
}

}  // namespace fc

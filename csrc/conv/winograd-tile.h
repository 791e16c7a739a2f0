// The Winograd input/output transforms over vector traits V, shared by every ISA file.
//
// Vectorized across tiles: lane l of a vector holds tile u+l. Tile u reads input columns
// u*m + j (j < alpha = m + 2), a stride-m gather, so a row strip is first copied into
// "phase-split" form P[r][q][u] = x[iy0 + r][ix0 + u*m + q] (q < m); element j of tiles
// u..u+W-1 is then the contiguous P[r][j % m][u + j / m ..] (alpha <= 2m). The output
// goes the other way: vectors of tile results land in a phase-split strip, are
// interleaved into the output rows, and bias/residual/activation run over those rows.
#pragma once
#include <cstddef>

#include "act/act-math.h"
#include "conv/winograd-kernels.h"
#include "conv/winograd-transforms.h"

namespace fc {

// Tiles per strip: the strip buffers stay on the stack (F(6x6): 8*6*(64+17) floats = 15 KiB).
constexpr size_t kWinoChunk = 64;

template <class V, int M>
void winograd_input(const WinoInputArgs& a) {
  using W = WinogradMatrices<M>;
  using reg = typename V::reg;
  constexpr int A = W::kAlpha;
  constexpr size_t kStrip = kWinoChunk + V::W + 1;  // tiles + the one extra read + full-vector slack
  alignas(64) float strip[A][M][kStrip];
  const ptrdiff_t h = static_cast<ptrdiff_t>(a.h), w = static_cast<ptrdiff_t>(a.w);
  for (size_t t0 = 0; t0 < a.tiles; t0 += kWinoChunk) {
    const size_t nt = a.tiles - t0 < kWinoChunk ? a.tiles - t0 : kWinoChunk;
    const ptrdiff_t xs = a.ix0 + static_cast<ptrdiff_t>(t0 * M);
    // Entries 0..nt are tile data (tile u reads u and u+1), the rest up to the last full
    // vector load are zeros.
    const size_t fill = (nt + V::W - 1) / V::W * V::W + 1;
    for (int r = 0; r < A; ++r) {
      const ptrdiff_t iy = a.iy0 + r;
      for (int q = 0; q < M; ++q) {
        float* dst = strip[r][q];
        // Tiles u with 0 <= xs + u*M + q < w form [lo, hi).
        ptrdiff_t lo = 0, hi = 0;
        const ptrdiff_t first = xs + q;
        if (iy >= 0 && iy < h) {
          lo = first >= 0 ? 0 : (-first + M - 1) / M;
          hi = first >= w ? 0 : (w - first + M - 1) / M;
          if (hi > static_cast<ptrdiff_t>(nt) + 1) hi = static_cast<ptrdiff_t>(nt) + 1;
          if (lo > hi) lo = hi;
        }
        for (ptrdiff_t u = 0; u < lo; ++u) dst[u] = 0.f;
        if (lo < hi) {
          const float* src = a.x + iy * w + first;
          for (ptrdiff_t u = lo; u < hi; ++u) dst[u] = src[u * M];
        }
        for (size_t u = hi; u < fill; ++u) dst[u] = 0.f;
      }
    }
    for (size_t u = 0; u < nt; u += V::W) {
      reg d[A][A], t[A][A], col[A], res[A];
      for (int r = 0; r < A; ++r)
        for (int j = 0; j < A; ++j) d[r][j] = V::load(&strip[r][j % M][u + j / M]);
      for (int j = 0; j < A; ++j) {  // columns: t[.][j] = BT d[.][j]
        for (int r = 0; r < A; ++r) col[r] = d[r][j];
        W::template input<V>(col, res);
        for (int i = 0; i < A; ++i) t[i][j] = res[i];
      }
      const int n = nt - u < static_cast<size_t>(V::W) ? static_cast<int>(nt - u) : V::W;
      float* v = a.v + t0 + u;
      for (int i = 0; i < A; ++i) {  // rows: V[i][.] = t[i][.] B
        W::template input<V>(t[i], res);
        for (int k = 0; k < A; ++k) {
          float* dst = v + (i * A + k) * a.v_stride;
          if (n == V::W) V::store(dst, res[k]); else V::store_n(dst, res[k], n);
        }
      }
    }
  }
}

template <class V, int M>
void winograd_output(const WinoOutputArgs& a) {
  using W = WinogradMatrices<M>;
  using reg = typename V::reg;
  constexpr int A = W::kAlpha;
  constexpr size_t kStrip = kWinoChunk + V::W;
  alignas(64) float strip[M][M][kStrip];
  alignas(64) float line[kWinoChunk * M + V::W];  // one output row of the chunk, interleaved
  const reg bias = V::set1(a.bias);
  for (size_t t0 = 0; t0 < a.tiles; t0 += kWinoChunk) {
    const size_t nt = a.tiles - t0 < kWinoChunk ? a.tiles - t0 : kWinoChunk;
    for (size_t u = 0; u < nt; u += V::W) {
      const int n = nt - u < static_cast<size_t>(V::W) ? static_cast<int>(nt - u) : V::W;
      reg t[M][A], row[A], res[A];
      for (int j = 0; j < A; ++j) {  // columns: t[.][j] = AT M[.][j]
        for (int r = 0; r < A; ++r) {
          const float* src = a.m + (r * A + j) * a.m_stride + t0 + u;
          row[r] = n == V::W ? V::load(src) : V::load_n(src, n);
        }
        W::template output<V>(row, res);
        for (int i = 0; i < M; ++i) t[i][j] = res[i];
      }
      for (int i = 0; i < M; ++i) {  // rows: y[i][.] = t[i][.] A
        W::template output<V>(t[i], res);
        for (int k = 0; k < M; ++k) V::store(&strip[i][k][u], V::add(res[k], bias));
      }
    }
    // Each output row is interleaved into `line` (on the stack, in L1), then bias'd values get
    // the residual and activation and go to y as whole vectors. Interleaving straight into y
    // stored it one float at a time and read it back for the activation: in a network y is
    // not in cache, and the reload waited on those scattered stores (43% of the transform).
    const size_t x0 = a.ox0 + t0 * M;
    const size_t x1 = x0 + nt * M < a.ow ? x0 + nt * M : a.ow;
    const size_t len = x1 - x0, full = len / M;  // tiles whose M columns are all inside the plane
    for (int i = 0; i < M && a.oy0 + i < a.oh; ++i) {
      for (size_t u = 0; u < full; ++u)
        for (int k = 0; k < M; ++k) line[u * M + k] = strip[i][k][u];
      for (size_t x = full * M; x < len; ++x) line[x] = strip[i][x % M][full];
      float* y = a.y + (a.oy0 + i) * a.ow + x0;
      const float* res = a.residual ? a.residual + (a.oy0 + i) * a.ow + x0 : nullptr;
      for (size_t x = 0; x < len; x += V::W) {
        const int n = len - x < static_cast<size_t>(V::W) ? static_cast<int>(len - x) : V::W;
        reg v = V::load(line + x);
        if (res) v = V::add(v, V::load_n(res + x, n));
        v = ActMath<V>::apply(a.act, v);
        if (n == V::W) V::store(y + x, v); else V::store_n(y + x, v, n);
      }
    }
  }
}

}  // namespace fc

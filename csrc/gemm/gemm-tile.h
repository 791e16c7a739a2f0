// The one micro-kernel template (contract in gemm-ukernel.h): MR rows x NV vectors of V,
// accumulators held in registers, A broadcast from the packed panel, B loaded as vectors.
// Each ISA file instantiates it once per tile size with its own vector traits.
#pragma once
#include <cstddef>

#include "gemm/gemm-ukernel.h"

// NV vectors of the NB-vector-wide packed B panel are computed (NV < NB: an edge panel).
template <class V, int MR, int NV, int NB = NV>
inline void gemm_tile(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, ptrdiff_t ldc,
                      const fc::GemmTileParams* p) {
  // An edge panel whose columns fit in fewer vectors runs the narrower tile: the
  // unused vectors would cost full FMAs (N = 196 as 32-wide panels ends in 4 columns).
  if constexpr (NV > 1) {
    if (n <= static_cast<size_t>((NV - 1) * V::W)) return gemm_tile<V, MR, NV - 1, NB>(m, n, kc, a, b, c, ldc, p);
  }
  using reg = typename V::reg;
  constexpr int W = V::W;
  reg acc[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V::set1(0.f);

  for (size_t k = 0; k < kc; ++k) {
    reg bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      const reg ar = V::set1(a[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(ar, bv[v], acc[r][v]);
    }
    a += MR;
    b += NB * W;
  }

  // Store phase: branches here are per tile, not per k step.
  const uint32_t f = p->flags;
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
    if (static_cast<size_t>(r) >= m) break;
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const ptrdiff_t left = static_cast<ptrdiff_t>(n) - v * W;
      if (left <= 0) break;
      const bool full = left >= W;
      const int lanes = full ? W : static_cast<int>(left);
      reg x = acc[r][v];
      if (f & fc::kTileAccumulate) x = V::add(x, full ? V::load(cr + v * W) : V::load_n(cr + v * W, lanes));
      if (f & fc::kTileFinal) {
        if (f & fc::kTileBiasRow) x = V::add(x, V::set1(p->bias[r]));
        if (f & fc::kTileBiasCol)
          x = V::add(x, full ? V::load(p->bias + v * W) : V::load_n(p->bias + v * W, lanes));
        if (f & fc::kTileResidual) {
          const float* res = p->residual + r * p->ld_residual + v * W;
          x = V::add(x, full ? V::load(res) : V::load_n(res, lanes));
        }
        if (f & fc::kTileLeaky) x = V::select_neg(x, V::mul(x, V::set1(p->leaky)), x);
        if (f & fc::kTileClamp) x = V::min(V::max(x, V::set1(p->lo)), V::set1(p->hi));
      }
      if (full)
        V::store(cr + v * W, x);
      else
        V::store_n(cr + v * W, x, lanes);
    }
  }
}

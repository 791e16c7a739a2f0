// The five loops around the micro-kernel (BLIS): NC -> KC (pack B) -> MC (pack A) -> NR -> MR.
// Threads split the output into disjoint column (or row) ranges, each walking the
// loops over its own range with its own packing buffers.
#include <omp.h>

#include <algorithm>

#include "act/activation.h"
#include "common/scratch.h"
#include "gemm/gemm.h"

namespace fc {
namespace {

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

struct Range {
  size_t m0, m1, n0, n1;
};

// The register-level epilogue flags that stay the same for every tile.
GemmTileParams final_tile_params(const Epilogue& ep) {
  GemmTileParams p{};
  p.flags = kTileFinal;
  if (ep.bias) p.flags |= ep.bias_per_column ? kTileBiasCol : kTileBiasRow;
  if (ep.residual) p.flags |= kTileResidual;
  p.ld_residual = ep.ld_residual;
  switch (ep.act.kind) {
    case ActKind::relu: p.flags |= kTileClamp; p.lo = 0.f; p.hi = __builtin_inff(); break;
    case ActKind::clip: p.flags |= kTileClamp; p.lo = ep.act.alpha; p.hi = ep.act.beta; break;
    case ActKind::leaky_relu: p.flags |= kTileLeaky; p.leaky = ep.act.alpha; break;
    default: break;
  }
  return p;
}

void gemm_range(const GemmConfig& cfg, size_t k, const ASource& a, const BSource& b, float* c, ptrdiff_t ldc,
                const Epilogue& ep, Range rg) {
  const size_t kc_max = std::min(cfg.kc, std::max<size_t>(k, 1));
  float* bbuf = thread_scratch(kScratchPackB, kc_max * round_up(std::min(cfg.nc, rg.n1 - rg.n0), cfg.nr));
  float* abuf = thread_scratch(kScratchPackA, kc_max * round_up(std::min(cfg.mc, rg.m1 - rg.m0), cfg.mr));
  const GemmTileParams fin = final_tile_params(ep);
  const act_kernel_fn post = act_in_registers(ep.act) ? nullptr : act_kernel(cfg.isa);

  for (size_t jc = rg.n0; jc < rg.n1; jc += cfg.nc) {  // NC: a column block of B and C
    const size_t nc = std::min(cfg.nc, rg.n1 - jc);
    for (size_t pc = 0; pc == 0 || pc < k; pc += cfg.kc) {  // KC: one depth block, packed B
      const size_t kc = std::min(cfg.kc, k - pc);
      const bool last = pc + kc >= k;
      b.pack(cfg, pc, kc, jc, nc, bbuf);
      for (size_t ic = rg.m0; ic < rg.m1; ic += cfg.mc) {  // MC: a row block of A, packed
        const size_t mc = std::min(cfg.mc, rg.m1 - ic);
        const float* ablk = a.block(cfg, ic, mc, pc, kc, abuf);
        for (size_t jr = 0; jr < nc; jr += cfg.nr) {  // NR: one B micro-panel, kept in L1
          const size_t n = std::min(cfg.nr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += cfg.mr) {  // MR: one micro-kernel call
            const size_t m = std::min(cfg.mr, mc - ir);
            const size_t i = ic + ir, j = jc + jr;
            float* ct = c + i * ldc + j;
            GemmTileParams p{};
            if (last) {
              p = fin;
              if (ep.bias) p.bias = ep.bias + (ep.bias_per_column ? j : i);
              if (ep.residual) p.residual = ep.residual + i * ep.ld_residual + j;
            }
            if (pc > 0) p.flags |= kTileAccumulate;
            cfg.ukernel(m, n, kc, ablk + ir * kc, bbuf + jr * kc, ct, ldc, &p);
            if (last && post)
              for (size_t r = 0; r < m; ++r) post(ep.act, ct + r * ldc, n);
          }
        }
      }
    }
  }
}

// Splits [0, extent) into nt ranges on multiples of `align`, as evenly as tiles allow.
Range split(size_t extent, size_t align, int nt, int t, bool along_n, size_t m, size_t n) {
  const size_t tiles = (extent + align - 1) / align;
  const size_t lo = std::min(extent, tiles * t / nt * align), hi = std::min(extent, tiles * (t + 1) / nt * align);
  return along_n ? Range{0, m, lo, hi} : Range{lo, hi, 0, n};
}

}  // namespace

void gemm(const GemmConfig& cfg, size_t m, size_t n, size_t k, const ASource& a, const BSource& b, float* c,
          ptrdiff_t ldc, const Epilogue& ep, int nthreads) {
  if (m == 0 || n == 0) return;
  const size_t tiles_m = (m + cfg.mr - 1) / cfg.mr, tiles_n = (n + cfg.nr - 1) / cfg.nr;
  // Below ~1 MFLOP a parallel region costs more than it saves.
  const double flops = 2.0 * m * n * std::max<size_t>(k, 1);
  int nt = flops < 1e6 ? 1 : std::max(1, nthreads);
  const bool along_n = tiles_n >= tiles_m || tiles_n >= static_cast<size_t>(4 * nt);
  nt = static_cast<int>(std::min<size_t>(nt, along_n ? tiles_n : tiles_m));
  if (nt <= 1) {
    gemm_range(cfg, k, a, b, c, ldc, ep, Range{0, m, 0, n});
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), nteam = omp_get_num_threads();
    const Range rg = along_n ? split(n, cfg.nr, nteam, t, true, m, n) : split(m, cfg.mr, nteam, t, false, m, n);
    if (rg.m0 < rg.m1 && rg.n0 < rg.n1) gemm_range(cfg, k, a, b, c, ldc, ep, rg);
  }
}

}  // namespace fc

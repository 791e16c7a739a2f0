// Block sizes and micro-kernel of the packed SGEMM, one row per ISA (gemm-config.cc).
#pragma once
#include <algorithm>
#include <cstddef>

#include "common/isa.h"
#include "gemm/gemm-ukernel.h"

namespace fc {

// The two loops around the micro-kernel (gemm-driver.cc): BLIS's order, B micro-panels outer
// (one panel stays in L1 while the MC block's A tiles stream past from L2), or A tiles outer
// (one A panel stays in L1 while the NC block's B panels stream from L2; a tile's row of C is
// then written left to right).
enum class GemmLoopOrder { columns_outer, rows_outer };

struct GemmConfig {
  Isa isa;
  const char* ukernel_name;
  gemm_ukernel_fn ukernel;
  igemm_ukernel_fn igemm_ukernel;      // the same tile reading B in place (ImplicitB, gemm.h)
  igemm_a_ukernel_fn igemm_a_ukernel;  // the same tile reading A in place (ImplicitA, gemm.h)
  pack_a_rows_fn pack_a_rows;          // one MR-row panel of a row-major A
  pack_b_rows_fn pack_b_rows;          // one NR-column panel of a row-major B
  size_t mr, nr;  // register tile
  size_t kc;      // deepest packed k block (gemm_block_k): deeper blocks, fewer passes over C
  size_t mc;      // rows of A per packed block, multiple of mr: the A block stays in L2
  size_t nc;      // columns of B per packed block, multiple of nr: the B block stays in L2/L3
  // Narrow-M blocking: when M <= narrow_m each B panel serves only M/MR tiles, too few to
  // hide fetching it from L3, so B blocks take nc_narrow_m columns and stay in L2
  // (0: always nc). A is the cheap operand then (packed once, small).
  size_t narrow_m = 0, nc_narrow_m = 0;
  GemmLoopOrder order = GemmLoopOrder::columns_outer;
  // The same tile with fewer rows (same NR, KC and NC, so a B packed for one serves both), for
  // products whose A is packed per call: gemm_config_for_rows. Null: none.
  const GemmConfig* rows_variant = nullptr;
};

// Columns of B per packed block for a product with m rows.
inline size_t gemm_block_n(const GemmConfig& cfg, size_t m) {
  return cfg.nc_narrow_m && m <= cfg.narrow_m ? cfg.nc_narrow_m : cfg.nc;
}

// Depth of each packed k block for a product of depth k: at most cfg.kc, all blocks about
// equal (2304 as 3 x 768, not 1024 + 1024 + 256): every block after the first re-reads and
// re-writes its tile of C, which a short last block pays for few FMAs.
inline size_t gemm_block_k(const GemmConfig& cfg, size_t k) {
  const size_t blocks = (k + cfg.kc - 1) / cfg.kc;
  return blocks <= 1 ? std::max<size_t>(k, 1) : (k + blocks - 1) / blocks;
}

const GemmConfig& gemm_config(Isa isa);

// Rows a product of m rows costs on cfg's tiles: whole MR tiles, and an edge tile of r rows run
// as the tile the kernel halves down to (MR, MR/2, ..., gemm-tile.h), at least 4 rows: below 8
// accumulators (4 rows of 2 vectors) a tile waits on the FMA latency (two FMA pipes of 4 cycles
// on Zen 5: one row ran at 27% of the full tile's rate, hot).
double gemm_padded_rows(size_t m, const GemmConfig& cfg);

// The config for a product of m rows whose A is packed per call or read in place: cfg, or its
// rows variant where that costs fewer rows (49 output positions as seven 7-row tiles, not six
// 8-row tiles and a one-row tile).
const GemmConfig& gemm_config_for_rows(const GemmConfig& cfg, size_t m);
inline const GemmConfig& gemm_config() { return gemm_config(active_isa()); }

}  // namespace fc

// Block sizes and micro-kernel of the packed SGEMM, one row per ISA (gemm-config.cc).
#pragma once
#include <cstddef>

#include "common/isa.h"
#include "gemm/gemm-ukernel.h"

namespace fc {

struct GemmConfig {
  Isa isa;
  const char* ukernel_name;
  gemm_ukernel_fn ukernel;
  igemm_ukernel_fn igemm_ukernel;      // the same tile reading B in place (ImplicitB, gemm.h)
  igemm_a_ukernel_fn igemm_a_ukernel;  // the same tile reading A in place (ImplicitA, gemm.h)
  size_t mr, nr;  // register tile
  size_t kc;      // depth of a packed block: one B micro-panel (kc x nr) stays in L1
  size_t mc;      // rows of A per packed block, multiple of mr: the A block stays in L2
  size_t nc;      // columns of B per packed block, multiple of nr: the B block stays in L2/L3
  // Narrow-M blocking: when M <= narrow_m each B panel serves only M/MR tiles, too few to
  // hide fetching it from L3, so B blocks take nc_narrow_m columns and stay in L2
  // (0: always nc). A is the cheap operand then (packed once, small).
  size_t narrow_m = 0, nc_narrow_m = 0;
};

// Columns of B per packed block for a product with m rows.
inline size_t gemm_block_n(const GemmConfig& cfg, size_t m) {
  return cfg.nc_narrow_m && m <= cfg.narrow_m ? cfg.nc_narrow_m : cfg.nc;
}

const GemmConfig& gemm_config(Isa isa);
inline const GemmConfig& gemm_config() { return gemm_config(active_isa()); }

}  // namespace fc

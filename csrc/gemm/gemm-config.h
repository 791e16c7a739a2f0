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
  size_t mr, nr;  // register tile
  size_t kc;      // depth of a packed block: one B micro-panel (kc x nr) stays in L1
  size_t mc;      // rows of A per packed block, multiple of mr: the A block stays in L2
  size_t nc;      // columns of B per packed block, multiple of nr: the B block stays in L2/L3
};

const GemmConfig& gemm_config(Isa isa);
inline const GemmConfig& gemm_config() { return gemm_config(active_isa()); }

}  // namespace fc

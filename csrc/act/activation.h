// Activation functions: one description shared by the GEMM epilogue, conv plans and the
// element-wise layer kernels, and the per-ISA kernels that apply them in place.
#pragma once
#include <cstddef>
#include <string>

#include "act/act-params.h"
#include "common/isa.h"

namespace fc {

// Parses "relu", "clip", ... ; throws std::invalid_argument naming the known kinds.
ActKind act_kind_from_name(const std::string& name);
const char* act_kind_name(ActKind kind);

// True for the piecewise-linear kinds the GEMM micro-kernels apply in registers
// (none, relu, clip, leaky_relu); the others run as a pass over the finished tile.
bool act_in_registers(const Activation& act);

// y = act(x) in place over n contiguous floats.
using act_kernel_fn = void (*)(const Activation& act, float* x, size_t n);
act_kernel_fn act_kernel(Isa isa);

}  // namespace fc

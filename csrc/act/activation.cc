#include "common/isa.h"
#include "act/activation.h"

#include <stdexcept>

#include "act/act-kernels.h"

namespace fc {
namespace {

const char* const kNames[] = {"none", "relu", "clip", "leaky_relu", "sigmoid", "tanh",
                              "silu", "hard_sigmoid", "hard_swish", "elu", "softplus"};
constexpr int kCount = sizeof(kNames) / sizeof(kNames[0]);

}  // namespace

ActKind act_kind_from_name(const std::string& name) {
  for (int i = 0; i < kCount; ++i)
    if (name == kNames[i]) return static_cast<ActKind>(i);
  std::string known;
  for (int i = 0; i < kCount; ++i) known += std::string(i ? ", " : "") + kNames[i];
  throw std::invalid_argument("unknown activation '" + name + "': expected one of " + known);
}

const char* act_kind_name(ActKind kind) { return kNames[static_cast<int>(kind)]; }

bool act_in_registers(const Activation& act) {
  return act.kind == ActKind::none || act.kind == ActKind::relu || act.kind == ActKind::clip ||
         act.kind == ActKind::leaky_relu;
}

act_kernel_fn act_kernel(Isa isa) {
  return FC_KERNEL_FOR_ISA(isa, f32_act);
}

}  // namespace fc

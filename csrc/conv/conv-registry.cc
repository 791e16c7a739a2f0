#include "conv/conv-registry.h"

#include "common/check.h"

namespace fc {
namespace {

std::string any_layer(const ConvParams&) { return {}; }

std::string pointwise_only(const ConvParams& p) {
  return p.is_pointwise() ? std::string() : "pointwise needs a 1x1 kernel, stride 1 and no padding";
}

std::string depthwise_only(const ConvParams& p) {
  return p.is_depthwise() ? std::string() : "depthwise needs groups == input channels (> 1)";
}

}  // namespace

const std::vector<ConvAlgoInfo>& conv_algorithms() {
  static const std::vector<ConvAlgoInfo> table = {
      {"im2col", any_layer, make_im2col_conv},
      {"pointwise", pointwise_only, make_pointwise_conv},
      {"depthwise", depthwise_only, make_depthwise_conv},
  };
  return table;
}

const ConvAlgoInfo& conv_algorithm(const std::string& name) {
  std::string known;
  for (const auto& a : conv_algorithms()) {
    if (name == a.name) return a;
    known += std::string(known.empty() ? "" : ", ") + a.name;
  }
  FC_CHECK(false, "unknown convolution algorithm '", name, "': expected auto or one of ", known);
  throw;  // unreachable
}

std::string choose_conv_algo(const ConvParams& p, size_t, size_t, Isa) {
  if (p.is_depthwise()) return "depthwise";
  if (p.is_pointwise()) return "pointwise";
  return "im2col";
}

}  // namespace fc

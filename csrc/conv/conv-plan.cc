#include "conv/conv-plan.h"

#include "common/check.h"

namespace fc {

ConvPlan::ConvPlan(const ConvParams& p, std::vector<float> weight, std::vector<float> bias, Activation act,
                   std::string algo, Isa isa)
    : p_(p), weight_(std::move(weight)), bias_(std::move(bias)), act_(act), algo_(std::move(algo)), isa_(isa) {
  p_.validate();
  const size_t expect = p_.out_channels * p_.group_in() * p_.kernel_h * p_.kernel_w;
  FC_CHECK(weight_.size() == expect, "weight has ", weight_.size(), " values, layer ", p_.describe(), " needs ", expect);
  FC_CHECK(bias_.empty() || bias_.size() == p_.out_channels, "bias has ", bias_.size(), " values, expected ",
           p_.out_channels, " (one per output channel)");
  if (algo_ != "auto") {
    const std::string why = conv_algorithm(algo_).cannot_run(p_);
    std::string can;
    for (const auto& a : conv_algorithms())
      if (a.cannot_run(p_).empty()) can += std::string(can.empty() ? "" : ", ") + a.name;
    FC_CHECK(why.empty(), "algorithm '", algo_, "' cannot run layer ", p_.describe(), ": ", why,
             "; algorithms that can: ", can);
  }
}

const ConvAlgorithm& ConvPlan::algorithm_for(size_t h, size_t w) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto hit = by_size_.find({h, w});
  if (hit != by_size_.end()) return *hit->second;
  p_.out_h(h);  // validates that the kernel fits
  p_.out_w(w);
  const std::string name = resolve_conv_algo(algo_, p_, h, w, isa_);
  auto& slot = built_[name];
  if (!slot) {
    ConvLayer layer{p_, weight_.data(), bias_.empty() ? nullptr : bias_.data(), act_, isa_};
    slot = conv_algorithm(name).create(layer);
  }
  by_size_[{h, w}] = slot.get();
  return *slot;
}

void ConvPlan::run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
                   int nthreads) const {
  FC_CHECK(y_image >= p_.out_channels * p_.out_h(h) * p_.out_w(w), "output images overlap: ", y_image,
           " floats apart for ", p_.out_channels * p_.out_h(h) * p_.out_w(w), " per image");
  algorithm_for(h, w).run(x, n, h, w, y, y_image, residual, nthreads);
}

int ConvPlan::blocked_winograd_m(size_t h, size_t w) const {
  const bool winograd = p_.kernel_h == 3 && p_.kernel_w == 3 && p_.stride_h == 1 && p_.stride_w == 1 &&
                        p_.dilation_h == 1 && p_.dilation_w == 1 && p_.groups == 1;
  if (!winograd) return 0;
  // An explicit algorithm holds in the blocked layout too: winograd_<m>x<m> that m (validated
  // by the constructor), any other the direct kernel.
  if (algo_.rfind("winograd_", 0) == 0) return algo_[9] - '0';
  if (algo_ != "auto") return 0;
  // F(4x4) from 12x12 outputs up, F(2x2) below (7x7: 4 tiles of F(4x4) left a thread idle).
  // Measured on ResNet-50 and SqueezeNet's 3x3 layers, 1 and 2 threads: F(4x4) 1.2-2.5x the
  // direct kernel and the NCHW Winograd from 13x13 up; at 7x7 F(2x2) 1.3x, F(4x4) 0.5x.
  // One input block: the 16-deep products leave the transforms and A's packing most of the
  // time, and the direct kernel ran SqueezeNet 1.05x faster (16 -> 64 at 55x55, in one
  // process, alternating); with 32 and 48 channels Winograd still won (1.04x).
  if (p_.in_channels < 2 * kChannelBlock) return 0;
  return p_.out_h(h) >= 12 && p_.out_w(w) >= 12 ? 4 : 2;
}

bool ConvPlan::can_run_blocked(ConvcInput input) const {
  if (p_.groups > 1)  // each group its own whole blocks of input and output channels
    return input == kConvcBlockedInput && p_.group_in() % kChannelBlock == 0 && p_.group_out() % kChannelBlock == 0;
  return input == kConvcNchwInput || p_.in_channels % kChannelBlock == 0;
}

void ConvPlan::run_blocked(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image,
                           const float* residual, int nthreads, ConvcInput input) const {
  FC_CHECK(can_run_blocked(input), "layer ", p_.describe(), " has no blocked form (it needs an input channel count "
           "that is a multiple of ", kChannelBlock, ", per group with groups, and output channels too)");
  const size_t y_floats = blocked_channels(p_.out_channels) * p_.out_h(h) * p_.out_w(w);
  FC_CHECK(y_image >= y_floats, "output images overlap: ", y_image, " floats apart for ", y_floats, " per image");
  const bool whole_blocks = p_.out_channels % kChannelBlock == 0;
  const int m = input == kConvcBlockedInput && whole_blocks ? blocked_winograd_m(h, w) : 0;
  const int cb = m == 0 ? blocked_direct_cb(p_, h, w) : 0;
  const BlockedAlgorithm* conv;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = blocked_[{input, m, cb}];
    if (!slot) {
      const ConvLayer layer{p_, weight_.data(), bias_.empty() ? nullptr : bias_.data(), act_, isa_};
      if (m == 0)
        slot = std::make_unique<BlockedConv>(layer, cb, input);
      else
        slot = make_blocked_winograd(layer, m);
    }
    conv = slot.get();
  }
  conv->run(x, n, h, w, y, y_image, residual, nthreads);
}

}  // namespace fc

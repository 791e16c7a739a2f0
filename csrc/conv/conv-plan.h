// A convolution layer ready to run: weights owned, algorithm chosen per input size and
// built (packed) once, then reused by every run. Safe to run from several threads.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "conv/conv-nchwc.h"
#include "conv/conv-registry.h"

namespace fc {

class ConvPlan {
 public:
  // weight: K x C/g x R x S (OIHW); bias: K floats or empty. algo: "auto" or a registered name.
  ConvPlan(const ConvParams& p, std::vector<float> weight, std::vector<float> bias, Activation act,
           std::string algo, Isa isa);

  const ConvParams& params() const { return p_; }
  Isa isa() const { return isa_; }
  const std::string& algo_preference() const { return algo_; }
  // The algorithm this plan runs for an h x w input (built on first use).
  const ConvAlgorithm& algorithm_for(size_t h, size_t w) const;
  // x: n x C x h x w; y and residual (optional): n x K x out_h(h) x out_w(w), y's images
  // y_image floats apart (>= K * out_h * out_w: y may be a channel slice of a larger buffer).
  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const;
  // Whether run_blocked can run this layer on `input` (blocked input: input channels a
  // multiple of 16; grouped layers: blocked input, channels per group multiples of 16 in and out).
  bool can_run_blocked(ConvcInput input = kConvcBlockedInput) const;
  // The Winograd m run_blocked uses for an h x w input (0: the direct kernel).
  int blocked_winograd_m(size_t h, size_t w) const;
  // The same on channel-blocked tensors (conv-nchwc.h): x (n, C/16, h, w, 16), or NCHW with
  // input == kConvcNchwInput (always the direct kernel); y and residual (n, Kb/16, oh, ow,
  // 16), Kb = blocked_channels(K): output channels that fill no whole block (always the
  // direct kernel) write padding lanes.
  // The blocked weights are packed on first use.
  void run_blocked(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
                   int nthreads, ConvcInput input = kConvcBlockedInput) const;

 private:
  ConvParams p_;
  std::vector<float> weight_, bias_;
  Activation act_;
  std::string algo_;
  Isa isa_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::unique_ptr<ConvAlgorithm>> built_;
  mutable std::map<std::pair<size_t, size_t>, const ConvAlgorithm*> by_size_;
  // by (input layout, Winograd m, 0) or (input layout, 0, the direct kernel's blocks per tile)
  mutable std::map<std::tuple<int, int, int>, std::unique_ptr<BlockedAlgorithm>> blocked_;
};

}  // namespace fc

// A dense (fully connected) layer: weights (out x in) packed once as the GEMM's A operand,
// so a small batch costs one pass over the packed weights and a tiny pack of the input.
#pragma once
#include <cstddef>
#include <vector>

#include "act/act-params.h"
#include "gemm/gemm.h"

namespace fc {

class DensePlan {
 public:
  // weight: out x in, row-major; bias: out floats or empty.
  DensePlan(const float* weight, size_t out, size_t in, std::vector<float> bias, Activation act);

  // yt (out x n, row-major) = act(W x^T + bias) for x (n x in, row-major): the transposed
  // output keeps the bias per GEMM row; the caller transposes the small result.
  void run(const float* x, size_t n, float* yt, int nthreads) const;

  size_t out_features() const { return out_; }
  size_t in_features() const { return in_; }

 private:
  const GemmConfig& cfg_;
  size_t out_, in_;
  PackedA weight_;
  std::vector<float> bias_;
  Activation act_;
};

}  // namespace fc

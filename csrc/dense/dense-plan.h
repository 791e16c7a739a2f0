// A dense (fully connected) layer: y (n x out) = act(x (n x in) W^T + bias), W kept as given
// (out x in, row-major). Small batches stream W once through the per-ISA row kernels (the
// product is bound by reading W); larger ones run the packed GEMM with B = W^T read in place.
#pragma once
#include <cstddef>
#include <vector>

#include "act/act-params.h"
#include "common/isa.h"
#include "dense/dense-kernels.h"
#include "gemm/gemm-config.h"

namespace fc {

class DensePlan {
 public:
  DensePlan(const float* weight, size_t out, size_t in, std::vector<float> bias, Activation act, Isa isa);

  void run(const float* x, size_t n, float* y, int nthreads) const;

  size_t out_features() const { return out_; }
  size_t in_features() const { return in_; }

  // Batches up to this size take the row kernels (each weight row is reused kBatch times from
  // L2 there, enough while the product is memory-bound); larger ones the GEMM.
  static constexpr size_t kMaxRowsBatch = 16;

 private:
  const GemmConfig& cfg_;
  dense_rows_fn rows_;
  size_t out_, in_;
  std::vector<float> weight_, bias_;
  Activation act_;
};

}  // namespace fc

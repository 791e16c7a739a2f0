// A dense (fully connected) layer: y (n x out) = act(x (n x in) W^T + bias), W kept as given
// (out x in, row-major). Small batches stream W once through the per-ISA row kernels (the
// product is bound by reading W); larger ones run the GEMM with W as the A operand, packed
// once on first use (so models only ever run at batch 1 never hold a second copy).
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "act/act-params.h"
#include "common/aligned.h"
#include "common/isa.h"
#include "dense/dense-kernels.h"
#include "gemm/gemm.h"

namespace fc {

class DensePlan {
 public:
  DensePlan(const float* weight, size_t out, size_t in, std::vector<float> bias, Activation act, Isa isa);

  void run(const float* x, size_t n, float* y, int nthreads) const;

  size_t out_features() const { return out_; }
  size_t in_features() const { return in_; }

  // Batches up to this size take the row kernels: each weight row is reused 4 times from L2
  // there; beyond it the GEMM's register blocking wins (and the batch fills its NR = 32 panels).
  static constexpr size_t kMaxRowsBatch = 32;

 private:
  const PackedA& packed() const;

  const GemmConfig& cfg_;
  dense_rows_fn rows_;
  size_t out_, in_;
  AlignedFloats weight_;  // streamed once per call: on huge pages (common/aligned.h)
  std::vector<float> bias_;
  Activation act_;
  mutable std::once_flag packed_once_;
  mutable std::unique_ptr<PackedA> packed_;
};

}  // namespace fc

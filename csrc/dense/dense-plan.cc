#include "dense/dense-plan.h"

#include <algorithm>

#include "common/isa.h"
#include "common/parallel.h"

#include "common/check.h"
#include "common/scratch.h"

namespace fc {
namespace {

dense_rows_fn rows_kernel(Isa isa) {
  return FC_KERNEL_FOR_ISA(isa, f32_dense_rows);
}

// Output rows per parallel piece of the row kernels: a multiple of the 4-row block.
constexpr size_t kRowsPiece = 64;

}  // namespace

DensePlan::DensePlan(const float* weight, size_t out, size_t in, std::vector<float> bias, Activation act, Isa isa)
    : cfg_(gemm_config(isa)), rows_(rows_kernel(isa)), out_(out), in_(in), weight_(out * in),
      bias_(std::move(bias)), act_(act) {
  FC_CHECK(out >= 1 && in >= 1, "dense weight must be non-empty, got ", out, "x", in);
  FC_CHECK(bias_.empty() || bias_.size() == out, "bias has ", bias_.size(), " values, expected ", out);
  std::copy(weight, weight + out * in, weight_.data());
}

void DensePlan::run(const float* x, size_t n, float* y, int nthreads) const {
  const float* bias = bias_.empty() ? nullptr : bias_.data();
  if (n <= kMaxRowsBatch) {
    const ptrdiff_t pieces = static_cast<ptrdiff_t>((out_ + kRowsPiece - 1) / kRowsPiece);
    parallel_for(static_cast<size_t>(pieces), (pieces > 1 && nthreads > 1) ? nthreads : 1, [&](size_t task) {
      const ptrdiff_t p = static_cast<ptrdiff_t>(task);
      const size_t o0 = p * kRowsPiece, o1 = o0 + kRowsPiece < out_ ? o0 + kRowsPiece : out_;
      rows_(DenseRowsArgs{weight_.data(), x, bias, y, in_, out_, n, o0, o1, act_});
    });
    return;
  }
  // C (out x n) = W x^T with the bias per row of C, then y = C^T: the GEMM keeps W packed and
  // reads the small x^T in place.
  float* c = thread_scratch(kScratchOp1, out_ * n);
  StridedB b(StridedMatrix{x, 1, static_cast<ptrdiff_t>(in_)});  // x^T: element (k, j) = x[j][k]
  Epilogue ep;
  ep.bias = bias;
  ep.bias_per_column = false;
  ep.act = act_;
  gemm(cfg_, out_, n, in_, packed(), b, c, static_cast<ptrdiff_t>(n), ep, nthreads);
  constexpr size_t kBlock = 32;  // transpose in cache-sized tiles
  const ptrdiff_t tiles = static_cast<ptrdiff_t>((out_ + kBlock - 1) / kBlock);
  parallel_for(static_cast<size_t>(tiles), (tiles > 1 && nthreads > 1) ? nthreads : 1, [&](size_t task) {
    const ptrdiff_t t = static_cast<ptrdiff_t>(task);
    const size_t o0 = t * kBlock, o1 = o0 + kBlock < out_ ? o0 + kBlock : out_;
    for (size_t j = 0; j < n; ++j)
      for (size_t o = o0; o < o1; ++o) y[j * out_ + o] = c[o * n + j];
  });
}

const PackedA& DensePlan::packed() const {
  std::call_once(packed_once_, [this] {
    packed_ = std::make_unique<PackedA>(cfg_, out_, in_, StridedMatrix{weight_.data(), static_cast<ptrdiff_t>(in_), 1});
  });
  return *packed_;
}

}  // namespace fc

#include "dense/dense-plan.h"

#include "common/check.h"

namespace fc {

DensePlan::DensePlan(const float* weight, size_t out, size_t in, std::vector<float> bias, Activation act)
    : cfg_(gemm_config()), out_(out), in_(in),
      weight_(cfg_, out, in, StridedMatrix{weight, static_cast<ptrdiff_t>(in), 1}), bias_(std::move(bias)), act_(act) {
  FC_CHECK(out >= 1 && in >= 1, "dense weight must be non-empty, got ", out, "x", in);
  FC_CHECK(bias_.empty() || bias_.size() == out, "bias has ", bias_.size(), " values, expected ", out);
}

void DensePlan::run(const float* x, size_t n, float* yt, int nthreads) const {
  StridedB b(StridedMatrix{x, 1, static_cast<ptrdiff_t>(in_)});  // x^T: element (k, j) = x[j * in + k]
  Epilogue ep;
  ep.bias = bias_.empty() ? nullptr : bias_.data();
  ep.bias_per_column = false;
  ep.act = act_;
  gemm(cfg_, out_, n, in_, weight_, b, yt, static_cast<ptrdiff_t>(n), ep, nthreads);
}

}  // namespace fc

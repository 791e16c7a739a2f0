// Small-batch dense kernels, one per ISA (files f32-dense-<isa>.cc): plain data and signatures only.
#pragma once
#include <cstddef>

#include "act/act-params.h"

namespace fc {

// y[b][o] = act(bias[o] + sum_k x[b][k] * w[o][k]) for o in [o0, o1), b < n.
// w: out x in row-major (as stored), x: n x in, y: n x out; bias may be null.
struct DenseRowsArgs {
  const float* w;
  const float* x;
  const float* bias;
  float* y;
  size_t in, out, n, o0, o1;
  Activation act;
};

using dense_rows_fn = void (*)(const DenseRowsArgs& a);

void f32_dense_rows__scalar(const DenseRowsArgs& a);
void f32_dense_rows__avx2(const DenseRowsArgs& a);
void f32_dense_rows__avx512f(const DenseRowsArgs& a);

}  // namespace fc

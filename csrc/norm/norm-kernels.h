// Normalisation kernels over channels or an axis, one set per ISA
// (files f32-softmax-<isa>.cc, f32-lrn-<isa>.cc): plain data and signatures only.
#pragma once
#include <cstddef>

namespace fc {

// Softmax of one slice x[len][inner] along len (the axis), for every inner index.
// log: log-softmax. y may not alias x.
using softmax_fn = void (*)(const float* x, float* y, size_t len, size_t inner, bool log);

// Local response normalisation across channels (ONNX LRN) of one image x[channels][hw]:
// y[c][i] = x[c][i] * (bias + alpha / size * sum_{c' in window(c)} x[c'][i]^2) ^ -beta
// for the output channel c = `channel` and the columns [i0, i1).
struct LrnArgs {
  const float* x;
  float* y;
  size_t channels, hw, channel, i0, i1;
  size_t lo, hi;  // channel window [lo, hi] of this output channel, clipped to the image
  float bias, alpha_over_size, beta;
};
using lrn_fn = void (*)(const LrnArgs& a);

void f32_softmax__scalar(const float* x, float* y, size_t len, size_t inner, bool log);
void f32_softmax__avx2(const float* x, float* y, size_t len, size_t inner, bool log);
void f32_softmax__avx512f(const float* x, float* y, size_t len, size_t inner, bool log);
void f32_lrn__scalar(const LrnArgs& a);
void f32_lrn__avx2(const LrnArgs& a);
void f32_lrn__avx512f(const LrnArgs& a);

}  // namespace fc

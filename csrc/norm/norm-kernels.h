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

// The same on a channel-blocked image x[blocks][hw][16] (NCHW16c) for every channel of the
// positions [p0, p1): window [c - before, c - before + size) clipped to the channels; sq is
// scratch for kLrnGroup * (blocks * 16 + size - 1) floats (squares between zeros). y may be x.
struct LrnBlockedArgs {
  const float* x;
  float* y;
  size_t blocks, hw, p0, p1, before, size;
  float* sq;
  float bias, alpha_over_size, beta;
};
using lrn_blocked_fn = void (*)(const LrnBlockedArgs& a);
constexpr size_t kLrnGroup = 8;  // positions whose squares the blocked kernel gathers at once

void f32_softmax__scalar(const float* x, float* y, size_t len, size_t inner, bool log);
void f32_softmax__avx2(const float* x, float* y, size_t len, size_t inner, bool log);
void f32_softmax__avx512f(const float* x, float* y, size_t len, size_t inner, bool log);
void f32_lrn__scalar(const LrnArgs& a);
void f32_lrn__avx2(const LrnArgs& a);
void f32_lrn__avx512f(const LrnArgs& a);
void f32_lrn_blocked__scalar(const LrnBlockedArgs& a);
void f32_lrn_blocked__avx2(const LrnBlockedArgs& a);
void f32_lrn_blocked__avx512f(const LrnBlockedArgs& a);

}  // namespace fc

// LRN across channels over vector traits V, vectorised along the plane. V must also give
// exponent(x) = floor(log2 x) and mantissa(x) = x / 2^exponent(x) in [1, 2) for normal
// positive x (each ISA file adds them to its traits), so the power is exp(-beta * log(base)).
// base >= bias > 0 in practice (ONNX's default bias is 1); log is within ~2 float ulps there.
#pragma once
#include <cstddef>

#include "act/act-math.h"
#include "conv/convc-kernels.h"
#include "norm/norm-kernels.h"

template <class V>
struct Lrn {
  using reg = typename V::reg;
  using M = ActMath<V>;
  static constexpr int W = V::W;

  static inline reg log(reg x) {
    return V::fma(V::exponent(x), V::set1(0.693147180559945f), M::log1p_unit(V::sub(V::mantissa(x), V::set1(1.f))));
  }

  static inline reg at(const float* p, int r) { return r == W ? V::load(p) : V::load_n(p, r); }

  static void run(const fc::LrnArgs& a) {
    const reg bias = V::set1(a.bias), k = V::set1(a.alpha_over_size), nbeta = V::set1(-a.beta);
    const float* xc = a.x + a.channel * a.hw;
    float* yc = a.y + a.channel * a.hw;
    for (size_t i = a.i0; i < a.i1; i += W) {
      const int r = a.i1 - i < static_cast<size_t>(W) ? static_cast<int>(a.i1 - i) : W;
      reg sum = V::set1(0.f);
      for (size_t c = a.lo; c <= a.hi; ++c) {
        const reg v = at(a.x + c * a.hw + i, r);
        sum = V::fma(v, v, sum);
      }
      const reg base = V::fma(sum, k, bias);
      const reg y = V::mul(at(xc + i, r), M::exp(V::mul(nbeta, log(base))));
      if (r == W)
        V::store(yc + i, y);
      else
        V::store_n(yc + i, y, r);
    }
  }

  // Per group of kGroup positions: their channels' squares gathered from the blocks into sq
  // (zeros around, so the window needs no clipping), then each vector of channels summed over
  // `size` shifted loads of sq. The shifted loads span two earlier stores; made right after
  // them they miss store forwarding and stall, so all the group's squares are stored first.
  // A position is read whole before any of it is written: y may be x.
  static constexpr size_t kGroup = fc::kLrnGroup;

  static void run_blocked(const fc::LrnBlockedArgs& a) {
    constexpr size_t B = fc::kChannelBlock;
    static_assert(B % W == 0, "a vector must not straddle two channel blocks");
    const reg bias = V::set1(a.bias), k = V::set1(a.alpha_over_size), nbeta = V::set1(-a.beta);
    const size_t c = a.blocks * B, row = c + a.size - 1;  // one position's squares and zeros
    for (size_t g = 0; g < kGroup; ++g) {
      float* sq = a.sq + g * row;
      for (size_t i = 0; i < a.before; ++i) sq[i] = 0.f;
      for (size_t i = a.before + c; i < row; ++i) sq[i] = 0.f;
    }
    for (size_t p0 = a.p0; p0 < a.p1; p0 += kGroup) {
      const size_t np = a.p1 - p0 < kGroup ? a.p1 - p0 : kGroup;
      for (size_t g = 0; g < np; ++g)
        for (size_t b = 0; b < a.blocks; ++b)
          for (size_t q = 0; q < B; q += W) {
            const reg v = V::load(a.x + (b * a.hw + p0 + g) * B + q);
            V::store(a.sq + g * row + a.before + b * B + q, V::mul(v, v));
          }
      for (size_t g = 0; g < np; ++g)
        for (size_t b = 0; b < a.blocks; ++b)
          for (size_t q = 0; q < B; q += W) {
            const float* w = a.sq + g * row + b * B + q;
            reg sum = V::load(w);
            for (size_t d = 1; d < a.size; ++d) sum = V::add(sum, V::load(w + d));
            const size_t at = (b * a.hw + p0 + g) * B + q;
            const reg base = V::fma(sum, k, bias);
            V::store(a.y + at, V::mul(V::load(a.x + at), M::exp(V::mul(nbeta, log(base)))));
          }
    }
  }
};

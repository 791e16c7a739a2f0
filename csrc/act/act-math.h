// One definition of every activation over a vector-traits type V (see csrc/simd/),
// instantiated by each ISA file, so the scalar, AVX2 and AVX-512 paths share the math.
// Accuracy: exp, sigmoid, tanh, silu, elu and softplus are within a few float ulps
// (relative error < 1e-6) except where the result underflows below 1e-37.
#pragma once
#include <cstddef>

#include "act/act-params.h"

template <class V>
struct ActMath {
  using reg = typename V::reg;

  // Cephes expf: 2^n * p(r) with r = x - n ln2 split in two parts for accuracy.
  static inline reg exp(reg x) {
    x = V::min(V::max(x, V::set1(-87.3365447505531f)), V::set1(88.3762626647949f));
    reg n = V::floor(V::fma(x, V::set1(1.44269504088896341f), V::set1(0.5f)));
    reg r = V::sub(V::sub(x, V::mul(n, V::set1(0.693359375f))), V::mul(n, V::set1(-2.12194440e-4f)));
    reg p = V::set1(1.9875691500e-4f);
    p = V::fma(p, r, V::set1(1.3981999507e-3f));
    p = V::fma(p, r, V::set1(8.3334519073e-3f));
    p = V::fma(p, r, V::set1(4.1665795894e-2f));
    p = V::fma(p, r, V::set1(1.6666665459e-1f));
    p = V::fma(p, r, V::set1(5.0000001201e-1f));
    p = V::add(V::fma(p, V::mul(r, r), r), V::set1(1.f));
    return V::mul(p, V::pow2i(n));
  }

  // exp(x) - 1 without cancellation near 0: Taylor series below |x| = 0.5 (error < 3e-8).
  static inline reg expm1(reg x) {
    reg p = V::set1(1.f / 40320.f);
    p = V::fma(p, x, V::set1(1.f / 5040.f));
    p = V::fma(p, x, V::set1(1.f / 720.f));
    p = V::fma(p, x, V::set1(1.f / 120.f));
    p = V::fma(p, x, V::set1(1.f / 24.f));
    p = V::fma(p, x, V::set1(1.f / 6.f));
    p = V::fma(p, x, V::set1(0.5f));
    p = V::fma(V::mul(p, x), x, x);
    reg big = V::sub(exp(x), V::set1(1.f));
    reg small_minus_half = V::sub(V::abs(x), V::set1(0.5f));  // < 0 where |x| < 0.5
    return V::select_neg(small_minus_half, p, big);
  }

  // log(1 + t) for t in [0, 1]: 2 atanh(s), s = t / (2 + t) <= 1/3 (series error < 1e-8).
  static inline reg log1p_unit(reg t) {
    reg s = V::div(t, V::add(t, V::set1(2.f)));
    reg s2 = V::mul(s, s);
    reg p = V::set1(1.f / 15.f);
    p = V::fma(p, s2, V::set1(1.f / 13.f));
    p = V::fma(p, s2, V::set1(1.f / 11.f));
    p = V::fma(p, s2, V::set1(1.f / 9.f));
    p = V::fma(p, s2, V::set1(1.f / 7.f));
    p = V::fma(p, s2, V::set1(1.f / 5.f));
    p = V::fma(p, s2, V::set1(1.f / 3.f));
    p = V::fma(p, s2, V::set1(1.f));
    return V::mul(V::add(s, s), p);
  }

  static inline reg sigmoid(reg x) { return V::div(V::set1(1.f), V::add(V::set1(1.f), exp(V::sub(V::set1(0.f), x)))); }

  // Eigen's rational approximation of tanh on [-7.9, 7.9]; tanh(x) = x below 4e-4.
  static inline reg tanh(reg x) {
    reg c = V::min(V::max(x, V::set1(-7.90531110763549805f)), V::set1(7.90531110763549805f));
    reg x2 = V::mul(c, c);
    reg p = V::set1(-2.76076847742355e-16f);
    p = V::fma(p, x2, V::set1(2.00018790482477e-13f));
    p = V::fma(p, x2, V::set1(-8.60467152213735e-11f));
    p = V::fma(p, x2, V::set1(5.12229709037114e-08f));
    p = V::fma(p, x2, V::set1(1.48572235717979e-05f));
    p = V::fma(p, x2, V::set1(6.37261928875436e-04f));
    p = V::fma(p, x2, V::set1(4.89352455891786e-03f));
    p = V::mul(p, c);
    reg q = V::set1(1.19825839466702e-06f);
    q = V::fma(q, x2, V::set1(1.18534705686654e-04f));
    q = V::fma(q, x2, V::set1(2.26843463243900e-03f));
    q = V::fma(q, x2, V::set1(4.89352518554385e-03f));
    reg tiny = V::sub(V::abs(x), V::set1(0.0004f));
    return V::select_neg(tiny, x, V::div(p, q));
  }

  static inline reg apply(const fc::Activation& act, reg x) {
    using fc::ActKind;
    const reg zero = V::set1(0.f), one = V::set1(1.f);
    switch (act.kind) {
      case ActKind::relu: return V::max(x, zero);
      case ActKind::clip: return V::min(V::max(x, V::set1(act.alpha)), V::set1(act.beta));
      case ActKind::leaky_relu: return V::select_neg(x, V::mul(x, V::set1(act.alpha)), x);
      case ActKind::sigmoid: return sigmoid(x);
      case ActKind::tanh: return tanh(x);
      case ActKind::silu: return V::mul(x, sigmoid(x));
      case ActKind::hard_sigmoid:
        return V::min(V::max(V::fma(x, V::set1(act.alpha), V::set1(act.beta)), zero), one);
      case ActKind::hard_swish:
        return V::mul(x, V::min(V::max(V::fma(x, V::set1(1.f / 6.f), V::set1(0.5f)), zero), one));
      case ActKind::elu: return V::select_neg(x, V::mul(V::set1(act.alpha), expm1(x)), x);
      case ActKind::softplus:  // max(x, 0) + log1p(exp(-|x|)), stable for any x
        return V::add(V::max(x, zero), log1p_unit(exp(V::sub(zero, V::abs(x)))));
      default: return x;
    }
  }

  static inline void apply_array(const fc::Activation& act, float* x, size_t n) {
    if (act.kind == fc::ActKind::none) return;
    size_t i = 0;
    for (; i + V::W <= n; i += V::W) V::store(x + i, apply(act, V::load(x + i)));
    if (i < n) {
      const int rest = static_cast<int>(n - i);
      V::store_n(x + i, apply(act, V::load_n(x + i, rest)), rest);
    }
  }
};

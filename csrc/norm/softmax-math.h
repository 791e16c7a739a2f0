// Numerically stable softmax over vector traits V: subtract the maximum along the axis
// before exp, so no exp overflows and the largest term is exactly 1 (the sum is >= 1).
// A contiguous axis (inner == 1) is vectorised along itself; otherwise along inner,
// W independent softmaxes at a time.
#pragma once
#include <cstddef>

#include "act/act-math.h"
#include "norm/norm-kernels.h"
#include "simd/v-reduce.h"

template <class V>
struct Softmax {
  using reg = typename V::reg;
  using M = ActMath<V>;
  static constexpr int W = V::W;

  static inline reg ld(const float* p, int r, float fill) {
    if (r == W) return V::load(p);
    float t[W];
    for (int l = 0; l < W; ++l) t[l] = l < r ? p[l] : fill;
    return V::load(t);
  }
  static inline void st(float* p, reg v, int r) {
    if (r == W)
      V::store(p, v);
    else
      V::store_n(p, v, r);
  }
  static inline float hmax(reg v) {
    float t[W];
    V::store(t, v);
    float m = t[0];
    for (int l = 1; l < W; ++l) m = t[l] > m ? t[l] : m;
    return m;
  }

  static void row(const float* x, float* y, size_t len, bool log) {
    const size_t full = len - len % W;
    const int r = static_cast<int>(len - full);
    const float ninf = -__builtin_inff();
    reg vm = V::set1(ninf);
    for (size_t i = 0; i < full; i += W) vm = V::max(vm, V::load(x + i));
    if (r) vm = V::max(vm, ld(x + full, r, ninf));
    const float m = hmax(vm);
    const reg vmx = V::set1(m);
    reg vs = V::set1(0.f);
    for (size_t i = 0; i < full; i += W) {
      const reg e = M::exp(V::sub(V::load(x + i), vmx));
      vs = V::add(vs, e);
      if (!log) V::store(y + i, e);
    }
    float s = v_hsum<V>(vs);
    if (r) {  // the tail's padding lanes must add nothing (exp(-inf) only clamps to ~1e-38)
      float e[W];
      V::store(e, M::exp(V::sub(ld(x + full, r, 0.f), vmx)));
      for (int l = 0; l < r; ++l) s += e[l];
      if (!log) V::store_n(y + full, V::load(e), r);
    }
    if (log) {
      // (x - m) - log(s), not x - (m + log(s)): near the maximum the result is small and
      // rounding m + log(s) first would cost up to ulp(m) of absolute error.
      const reg logs = V::set1(__builtin_logf(s));
      for (size_t i = 0; i < len; i += W) {
        const int n = len - i < static_cast<size_t>(W) ? static_cast<int>(len - i) : W;
        st(y + i, V::sub(V::sub(ld(x + i, n, 0.f), vmx), logs), n);
      }
    } else {
      const reg inv = V::set1(1.f / s);
      for (size_t i = 0; i < len; i += W) {
        const int n = len - i < static_cast<size_t>(W) ? static_cast<int>(len - i) : W;
        st(y + i, V::mul(ld(y + i, n, 0.f), inv), n);
      }
    }
  }

  // W softmaxes side by side: columns [j, j + r) of x[len][inner].
  static void columns(const float* x, float* y, size_t len, size_t inner, size_t j, int r, bool log) {
    reg vm = ld(x + j, r, 0.f);
    for (size_t k = 1; k < len; ++k) vm = V::max(vm, ld(x + k * inner + j, r, 0.f));
    reg vs = V::set1(0.f);
    for (size_t k = 0; k < len; ++k) {
      const reg e = M::exp(V::sub(ld(x + k * inner + j, r, 0.f), vm));
      vs = V::add(vs, e);
      if (!log) st(y + k * inner + j, e, r);
    }
    if (log) {
      float s[W];
      V::store(s, vs);
      for (int l = 0; l < W; ++l) s[l] = __builtin_logf(s[l]);
      const reg logs = V::load(s);
      for (size_t k = 0; k < len; ++k)
        st(y + k * inner + j, V::sub(V::sub(ld(x + k * inner + j, r, 0.f), vm), logs), r);
    } else {
      const reg inv = V::div(V::set1(1.f), vs);
      for (size_t k = 0; k < len; ++k) st(y + k * inner + j, V::mul(ld(y + k * inner + j, r, 0.f), inv), r);
    }
  }

  static void slice(const float* x, float* y, size_t len, size_t inner, bool log) {
    if (inner == 1) return row(x, y, len, log);
    for (size_t j = 0; j < inner; j += W) {
      const int r = inner - j < static_cast<size_t>(W) ? static_cast<int>(inner - j) : W;
      columns(x, y, len, inner, j, r, log);
    }
  }
};

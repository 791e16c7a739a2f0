// Element-wise loops over vector traits V; the activation is applied in registers
// (act/act-math.h) so every op makes exactly one pass over memory.
#pragma once
#include <cstddef>

#include "act/act-math.h"
#include "eltwise/eltwise-kernels.h"

template <class V>
struct Eltwise {
  using reg = typename V::reg;
  static constexpr int W = V::W;

  // f(i, lanes) -> reg for lanes-wide chunk at i; stores act(f) to y. Unrolled by two so
  // the loads of one vector overlap the math of the other.
  template <class F>
  static inline void map(float* y, size_t n, const fc::Activation& act, F f) {
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      reg v0 = f(i, W), v1 = f(i + W, W);
      V::store(y + i, ActMath<V>::apply(act, v0));
      V::store(y + i + W, ActMath<V>::apply(act, v1));
    }
    for (; i < n; i += W) {
      const int r = n - i < static_cast<size_t>(W) ? static_cast<int>(n - i) : W;
      reg v = ActMath<V>::apply(act, f(i, r));
      if (r == W)
        V::store(y + i, v);
      else
        V::store_n(y + i, v, r);
    }
  }

  static inline reg ld(const float* p, int r) { return r == W ? V::load(p) : V::load_n(p, r); }

  static void affine(const float* x, float* y, size_t n, float scale, float shift, const fc::Activation& act) {
    const reg s = V::set1(scale), t = V::set1(shift);
    map(y, n, act, [&](size_t i, int r) { return V::fma(ld(x + i, r), s, t); });
  }

  static void affine_v(const float* x, float* y, size_t n, const float* scale, const float* shift,
                       const fc::Activation& act) {
    map(y, n, act, [&](size_t i, int r) { return V::fma(ld(x + i, r), ld(scale + i, r), ld(shift + i, r)); });
  }

  // `rows` rows of `lanes` floats sharing per-lane scale/shift: a channel-blocked plane
  // (NCHW16c: a row is one position's 16 channels).
  static void affine_rows(const float* x, float* y, size_t rows, size_t lanes, const float* scale, const float* shift,
                          const fc::Activation& act) {
    for (size_t r = 0; r < rows; ++r, x += lanes, y += lanes)
      map(y, lanes, act, [&](size_t i, int k) { return V::fma(ld(x + i, k), ld(scale + i, k), ld(shift + i, k)); });
  }

  static void binary(fc::BinaryOp op, const float* a, const float* b, float* y, size_t n, const fc::Activation& act) {
    if (op == fc::BinaryOp::add)
      map(y, n, act, [&](size_t i, int r) { return V::add(ld(a + i, r), ld(b + i, r)); });
    else
      map(y, n, act, [&](size_t i, int r) { return V::mul(ld(a + i, r), ld(b + i, r)); });
  }
};

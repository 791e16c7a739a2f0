// Portable vector traits on GCC/Clang vector extensions: SSE2 on baseline x86-64, NEON on Arm.
#pragma once
#include <cstdint>
#include <cstring>

struct VScalar {
  typedef float reg __attribute__((vector_size(16), aligned(4)));
  typedef int32_t ireg __attribute__((vector_size(16), aligned(4)));
  static constexpr int W = 4;

  static inline reg set1(float v) { return reg{v, v, v, v}; }
  static inline reg load(const float* p) { reg r; std::memcpy(&r, p, sizeof r); return r; }
  static inline void store(float* p, reg v) { std::memcpy(p, &v, sizeof v); }
  static inline reg load_n(const float* p, int n) {
    reg r = set1(0.f);
    for (int i = 0; i < n; ++i) r[i] = p[i];
    return r;
  }
  // Lanes [lo, hi) from p + lo .. p + hi - 1, zeros elsewhere; the other lanes' addresses are not read.
  static inline reg load_range(const float* p, int lo, int hi) { return load_range_fill(p, lo, hi, 0.f); }
  // The same with `fill` in the other lanes.
  static inline reg load_range_fill(const float* p, int lo, int hi, float fill) {
    reg r = set1(fill);
    for (int i = lo; i < hi; ++i) r[i] = p[i];
    return r;
  }
  // even = a0 a2 b0 b2, odd = a1 a3 b1 b3: the columns of stride 2.
  static inline void deinterleave(reg a, reg b, reg& even, reg& odd) {
    even = __builtin_shufflevector(a, b, 0, 2, 4, 6);
    odd = __builtin_shufflevector(a, b, 1, 3, 5, 7);
  }
  // Lanes K .. K + 3 of the 8 lanes [a, b] (a first): a row shifted left by K columns.
  template <int K>
  static inline reg shift_in(reg a, reg b) {
    return __builtin_shufflevector(a, b, K, K + 1, K + 2, K + 3);
  }
  static inline void store_n(float* p, reg v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v[i];
  }
  // Lanes [lo, hi) to p + lo .. p + hi - 1; the other lanes' addresses are not written.
  static inline void store_range(float* p, reg v, int lo, int hi) {
    for (int i = lo; i < hi; ++i) p[i] = v[i];
  }
  static inline reg in_reg(reg x) { return x; }  // portable: no register pinning
  static inline reg add(reg a, reg b) { return a + b; }
  static inline reg sub(reg a, reg b) { return a - b; }
  static inline reg mul(reg a, reg b) { return a * b; }
  static inline reg div(reg a, reg b) { return a / b; }
  static inline reg fma(reg a, reg b, reg c) { return a * b + c; }
  static inline reg max(reg a, reg b) { return a > b ? a : b; }
  static inline reg min(reg a, reg b) { return a < b ? a : b; }
  static inline reg abs(reg a) { return a < 0 ? -a : a; }
  static inline reg floor(reg a) {
    reg t = __builtin_convertvector(__builtin_convertvector(a, ireg), reg);
    return t > a ? t - 1.f : t;
  }
  static inline reg pow2i(reg n) {
    ireg bits = (__builtin_convertvector(n, ireg) + 127) << 23;
    reg r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }
  static inline reg select_neg(reg x, reg a, reg b) { return x < 0 ? a : b; }
};

// AVX2 + FMA vector traits (8 floats). Include only from files named *-avx2.cc.
#pragma once
#include <immintrin.h>

struct VAvx2 {
  using reg = __m256;
  static constexpr int W = 8;

  static inline __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static inline reg set1(float v) { return _mm256_set1_ps(v); }
  static inline reg load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  static inline reg load_n(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  // Lanes [lo, hi) from p + lo .. p + hi - 1, zeros elsewhere; the other lanes' addresses are not read.
  static inline reg load_range(const float* p, int lo, int hi) { return _mm256_maskload_ps(p, range_mask(lo, hi)); }
  // The same with `fill` in the other lanes.
  static inline reg load_range_fill(const float* p, int lo, int hi, float fill) {
    const __m256i m = range_mask(lo, hi);
    return _mm256_blendv_ps(set1(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  // All ones in lanes [lo, hi).
  static inline __m256i range_mask(int lo, int hi) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(hi), idx),
                            _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(lo - 1)));
  }
  // even = a0 a2 a4 a6 b0 b2 b4 b6, odd = a1 a3 .. b7: the columns of stride 2.
  static inline void deinterleave(reg a, reg b, reg& even, reg& odd) {
    const reg lo = _mm256_permute2f128_ps(a, b, 0x20), hi = _mm256_permute2f128_ps(a, b, 0x31);
    even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
  }
  // Lanes K .. K + 7 of the 16 lanes [a, b] (a first): a row shifted left by K columns.
  template <int K>
  static inline reg shift_in(reg a, reg b) {
    const __m256i mid = _mm256_castps_si256(_mm256_permute2f128_ps(a, b, 0x21));  // a.hi, b.lo
    if constexpr (K < 4)
      return _mm256_castsi256_ps(_mm256_alignr_epi8(mid, _mm256_castps_si256(a), 4 * K));
    else
      return _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(b), mid, 4 * (K - 4)));
  }
  static inline void store_n(float* p, reg v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  // r[i] lane j -> r[j] lane i (8x8 in registers): unpack -> shuffle -> 128-bit permute.
  static constexpr bool kTranspose8x8 = true;
  static inline void transpose_8x8(reg (&r)[8]) {
    reg t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);      // cols 0, 1 | 4, 5 of rows 2i, 2i+1
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);  // cols 2, 3 | 6, 7
    }
    for (int h = 0; h < 2; ++h) {  // rows 0-3 (h = 0) and 4-7: u[4h + c] = column c | c + 4
      u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(1, 0, 1, 0));
      u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(3, 2, 3, 2));
      u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(1, 0, 1, 0));
      u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int c = 0; c < 4; ++c) {
      r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
      r[c + 4] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
  }
  static inline void store_range(float* p, reg v, int lo, int hi) { _mm256_maskstore_ps(p, range_mask(lo, hi), v); }
  // x, held in a register: GCC would fold a load that feeds several FMAs into each of them.
  static inline reg in_reg(reg x) {
    asm("" : "+x"(x));
    return x;
  }
  static inline reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static inline reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  static inline reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static inline reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
  static inline reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static inline reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static inline reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  static inline reg abs(reg a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
  static inline reg floor(reg a) { return _mm256_floor_ps(a); }
  static inline reg pow2i(reg n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static inline reg select_neg(reg x, reg a, reg b) { return _mm256_blendv_ps(b, a, x); }
};

// AVX-512 (F, DQ, BW, VL) vector traits (16 floats). Include only from files named *-avx512f.cc.
#pragma once
#include <immintrin.h>

struct VAvx512 {
  using reg = __m512;
  static constexpr int W = 16;

  static inline __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static inline reg set1(float v) { return _mm512_set1_ps(v); }
  static inline reg load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static inline reg load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  // Lanes [lo, hi) from p + lo .. p + hi - 1, zeros elsewhere; the other lanes' addresses are not read.
  static inline reg load_range(const float* p, int lo, int hi) { return _mm512_maskz_loadu_ps(range_mask(lo, hi), p); }
  // The same with `fill` in the other lanes.
  static inline reg load_range_fill(const float* p, int lo, int hi, float fill) {
    return _mm512_mask_loadu_ps(set1(fill), range_mask(lo, hi), p);
  }
  static inline __mmask16 range_mask(int lo, int hi) {
    return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
  }
  // even = a0 a2 .. a14 b0 b2 .. b14, odd = a1 a3 .. b15: the columns of stride 2.
  static inline void deinterleave(reg a, reg b, reg& even, reg& odd) {
    even = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
    odd = _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
  }
  // Lanes K .. K + 15 of the 32 lanes [a, b] (a first): a row shifted left by K columns.
  template <int K>
  static inline reg shift_in(reg a, reg b) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), K));
  }
  static inline void store_n(float* p, reg v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static inline void store_range(float* p, reg v, int lo, int hi) { _mm512_mask_storeu_ps(p, range_mask(lo, hi), v); }
  // dst[j * ld + i] = r[i][j] (j < 16, i < 8): eight rows stored as sixteen columns of 8
  // floats ld apart, through unpack -> shuffle -> two-source permute; each result holds
  // columns c and c + 4 (or c + 8 and c + 12), written as two masked halves.
  static constexpr bool kTranspose8x16 = true;
  static inline void transpose_8x16(const reg (&r)[8], float* dst, size_t ld = 8) {
    reg t[8];
    transpose_8x16_pairs(r, t);
    for (int c = 0; c < 4; ++c) {
      _mm512_mask_storeu_ps(dst + c * ld, 0x00FF, t[c]);
      _mm512_mask_storeu_ps(dst + (c + 4) * ld - 8, 0xFF00, t[c]);
      _mm512_mask_storeu_ps(dst + (c + 8) * ld, 0x00FF, t[4 + c]);
      _mm512_mask_storeu_ps(dst + (c + 12) * ld - 8, 0xFF00, t[4 + c]);
    }
  }
  // The same transpose left in registers: out[c] holds column c (lanes 0-7) and c + 4 (lanes
  // 8-15), out[4 + c] columns c + 8 and c + 12, for c < 4 (transposed GEMM tiles, gemm-tile.h).
  static inline void transpose_8x16_pairs(const reg (&r)[8], reg (&out)[8]) {
    reg t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);      // per lane: cols 0, 1 of rows 2i, 2i+1
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);  // cols 2, 3
    }
    for (int h = 0; h < 2; ++h) {  // rows 0-3 (h = 0) and 4-7: u[4h + c] lane L = rows of column 4L + c
      u[4 * h + 0] = _mm512_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
      u[4 * h + 1] = _mm512_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
      u[4 * h + 2] = _mm512_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
      u[4 * h + 3] = _mm512_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    for (int c = 0; c < 4; ++c) {
      out[c] = _mm512_permutex2var_ps(u[c], lo, u[4 + c]);      // column c | column c + 4
      out[4 + c] = _mm512_permutex2var_ps(u[c], hi, u[4 + c]);  // column c + 8 | column c + 12
    }
  }
  // Pairs of 8-float halves (a column pair of transpose_8x16_pairs): n floats at lo into lanes
  // 0..n-1 and, when hi is not null, n floats at hi into lanes 8..8+n-1; other lanes zero and unread.
  static inline reg load_halves(const float* lo, const float* hi, int n) {
    const reg x = _mm512_maskz_loadu_ps(mask(n), lo);
    return hi ? _mm512_mask_loadu_ps(x, static_cast<__mmask16>(mask(n) << 8), hi - 8) : x;
  }
  static inline void store_halves(float* lo, float* hi, reg v, int n) {
    _mm512_mask_storeu_ps(lo, mask(n), v);
    if (hi) _mm512_mask_storeu_ps(hi - 8, static_cast<__mmask16>(mask(n) << 8), v);
  }
  static inline reg set_halves(float lo, float hi) { return _mm512_mask_mov_ps(set1(lo), 0xFF00, set1(hi)); }
  // n floats at p (n <= 8) in lanes 0..n-1 and again in lanes 8..8+n-1.
  static inline reg dup_halves_n(const float* p, int n) {
    return _mm512_broadcast_f32x8(_mm256_maskz_loadu_ps(static_cast<__mmask8>(mask(n)), p));
  }
  // x, held in a register: GCC would fold a load that feeds several FMAs into each of them.
  static inline reg in_reg(reg x) {
    asm("" : "+v"(x));
    return x;
  }
  static inline reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static inline reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  static inline reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static inline reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  static inline reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static inline reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static inline reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static inline reg abs(reg a) { return _mm512_abs_ps(a); }
  static inline reg floor(reg a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static inline reg pow2i(reg n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static inline reg select_neg(reg x, reg a, reg b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), b, a);
  }
};

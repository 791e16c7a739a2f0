// The depthwise plane template over vector traits V, vectorised along output width.
//
// Step 1 copies the input into a zero-padded buffer split by column phase (see
// DwPlaneArgs), so that for output column ow and tap s the input is phase
// (s*dw) % sw at column ow + (s*dw) / sw: contiguous in ow for any stride.
// Step 2 runs blocks of kBlock vectors of one output row over all taps, with the
// accumulators in registers: one load and one FMA per tap and vector.
#pragma once
#include <cstddef>

#include "conv/dwconv-3x3.h"
#include "conv/dwconv-kernels.h"
#include "conv/dwconv-store.h"

// Writes padded input row i (every column phase) into ring slot `slot` of `ring` rows.
template <class V>
inline void dwconv_pad_row(const fc::ConvParams& p, const fc::DwPlaneArgs& a, ptrdiff_t i, ptrdiff_t slot,
                           ptrdiff_t ring) {
  const ptrdiff_t sw = p.stride_w, pt = p.pad_top, pl = p.pad_left, H = a.h, Wi = a.w_in;
  const ptrdiff_t ww = a.work_w;
  for (ptrdiff_t q = 0; q < sw; ++q) {
    float* dst = a.work + (q * ring + slot) * ww;
    const ptrdiff_t ih = i - pt;
    if (ih < 0 || ih >= H) {
      for (ptrdiff_t j = 0; j < ww; ++j) dst[j] = 0.f;
      continue;
    }
    const float* src = a.x + ih * Wi;
    // dst[j] = src[j*sw + q - pl] where in range; [lo, hi) are the in-range j.
    const ptrdiff_t off = q - pl;
    ptrdiff_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
    ptrdiff_t hi = off >= Wi ? 0 : (Wi - off + sw - 1) / sw;
    if (lo > ww) lo = ww;
    if (hi > ww) hi = ww;
    if (hi < lo) hi = lo;
    for (ptrdiff_t j = 0; j < lo; ++j) dst[j] = 0.f;
    if (sw == 1) {
      ptrdiff_t j = lo;
      for (; j + V::W <= hi; j += V::W) V::store(dst + j, V::load(src + j + off));
      for (; j < hi; ++j) dst[j] = src[j + off];
    } else {
      for (ptrdiff_t j = lo; j < hi; ++j) dst[j] = src[j * sw + off];
    }
    for (ptrdiff_t j = hi; j < ww; ++j) dst[j] = 0.f;
  }
}

template <class V>
inline void dwconv_pad_split(const fc::ConvParams& p, const fc::DwPlaneArgs& a) {
  const ptrdiff_t rows = a.work_rows;
  for (ptrdiff_t i = 0; i < rows; ++i) dwconv_pad_row<V>(p, a, i, i, rows);
}

template <class V, int kBlock>
inline void dwconv_row_block(const fc::ConvParams& p, const fc::DwPlaneArgs& a, const float* const* tap_src,
                             size_t ow0, size_t nvec, float* out, const float* res) {
  using reg = typename V::reg;
  constexpr int W = V::W;
  reg acc[kBlock];
#pragma GCC unroll 8
  for (int v = 0; v < kBlock; ++v) acc[v] = V::set1(a.bias);
  const size_t taps = p.kernel_h * p.kernel_w;
  for (size_t t = 0; t < taps; ++t) {
    const reg wt = V::set1(a.w[t]);
    const float* src = tap_src[t] + ow0;
#pragma GCC unroll 8
    for (int v = 0; v < kBlock; ++v)
      if (static_cast<size_t>(v) < nvec) acc[v] = V::fma(wt, V::load(src + v * W), acc[v]);
  }
#pragma GCC unroll 8
  for (int v = 0; v < kBlock; ++v) {
    if (static_cast<size_t>(v) >= nvec) break;
    dw_store<V>(acc[v], ow0 + v * W, a.ow, out, res);
  }
}

// The same row with the kernel size known at compile time (3x3, 5x5): taps unrolled,
// weights held in registers across the whole plane.
template <class V, int KT, int kBlock>
inline void dwconv_row_fixed(const typename V::reg* wt, typename V::reg bias, const float* const* tap_src, size_t ow,
                             float* out, const float* res) {
  using reg = typename V::reg;
  constexpr int W = V::W;
  const size_t vecs = (ow + W - 1) / W;
  size_t v0 = 0;
  for (; v0 + kBlock <= vecs; v0 += kBlock) {
    reg acc[kBlock];
#pragma GCC unroll 8
    for (int v = 0; v < kBlock; ++v) acc[v] = bias;
#pragma GCC unroll 25
    for (int t = 0; t < KT; ++t) {
      const float* src = tap_src[t] + v0 * W;
#pragma GCC unroll 8
      for (int v = 0; v < kBlock; ++v) acc[v] = V::fma(wt[t], V::load(src + v * W), acc[v]);
    }
#pragma GCC unroll 8
    for (int v = 0; v < kBlock; ++v) {
      dw_store<V>(acc[v], (v0 + v) * W, ow, out, res);
    }
  }
  for (; v0 < vecs; ++v0) {  // the last few vectors, one at a time
    reg acc = bias;
#pragma GCC unroll 25
    for (int t = 0; t < KT; ++t) acc = V::fma(wt[t], V::load(tap_src[t] + v0 * W), acc);
    const size_t col = v0 * W;
    const int lanes = ow - col < static_cast<size_t>(W) ? static_cast<int>(ow - col) : W;
    if (res) acc = V::add(acc, lanes == W ? V::load(res + col) : V::load_n(res + col, lanes));
    if (lanes == W)
      V::store(out + col, acc);
    else
      V::store_n(out + col, acc, lanes);
  }
}

// Two output rows at once for vertical stride and dilation 1: each of the KH + 1 input
// rows is loaded once per column tap and feeds both rows (a third fewer loads for 3x3).
template <class V, int KH, int KW, int kBlock>
inline void dwconv_two_rows(const typename V::reg* wt, typename V::reg bias, const float* const* src, size_t ow,
                            float* out0, float* out1, const float* res0, const float* res1) {
  using reg = typename V::reg;
  constexpr int W = V::W;
  const size_t vecs = (ow + W - 1) / W;
  for (size_t v0 = 0; v0 < vecs; v0 += kBlock) {
    const int nb = vecs - v0 < static_cast<size_t>(kBlock) ? static_cast<int>(vecs - v0) : kBlock;
    reg acc0[kBlock], acc1[kBlock];
#pragma GCC unroll 8
    for (int v = 0; v < kBlock; ++v) acc0[v] = acc1[v] = bias;
#pragma GCC unroll 8
    for (int i = 0; i <= KH; ++i)
#pragma GCC unroll 8
      for (int c = 0; c < KW; ++c) {
        const float* p = src[i * KW + c] + v0 * W;
#pragma GCC unroll 8
        for (int v = 0; v < kBlock; ++v) {
          if (v >= nb) break;
          const reg x = V::load(p + v * W);
          if (i < KH) acc0[v] = V::fma(wt[i * KW + c], x, acc0[v]);
          if (i >= 1) acc1[v] = V::fma(wt[(i - 1) * KW + c], x, acc1[v]);
        }
      }
#pragma GCC unroll 8
    for (int v = 0; v < kBlock; ++v) {
      if (v >= nb) break;
      const size_t col = (v0 + v) * W;
      const int lanes = ow - col < static_cast<size_t>(W) ? static_cast<int>(ow - col) : W;
      reg x0 = acc0[v], x1 = acc1[v];
      if (lanes == W) {
        if (res0) x0 = V::add(x0, V::load(res0 + col)), x1 = V::add(x1, V::load(res1 + col));
        V::store(out0 + col, x0);
        V::store(out1 + col, x1);
      } else {
        if (res0) x0 = V::add(x0, V::load_n(res0 + col, lanes)), x1 = V::add(x1, V::load_n(res1 + col, lanes));
        V::store_n(out0 + col, x0, lanes);
        V::store_n(out1 + col, x1, lanes);
      }
    }
  }
}

template <class V, int KH, int KW>
inline void dwconv_plane_fixed(const fc::ConvParams& p, const fc::DwPlaneArgs& a) {
  using reg = typename V::reg;
  constexpr int KT = KH * KW;
  constexpr int kBlock = V::W >= 16 ? 4 : 2;  // 2 x kBlock accumulators + KT weights fit the registers
  reg wt[KT];
#pragma GCC unroll 25
  for (int t = 0; t < KT; ++t) wt[t] = V::set1(a.w[t]);
  const reg bias = V::set1(a.bias);
  const size_t sh = p.stride_h, sw = p.stride_w, dh = p.dilation_h, dw = p.dilation_w;
  // Padded rows are made just before first use into a ring of `ring` slots, so they are
  // still in L1 when the taps read them and the input load latency overlaps compute.
  const size_t ring = (KH - 1) * dh + 2 < a.work_rows ? (KH - 1) * dh + 2 : a.work_rows;
  size_t made = 0;  // rows [0, made) have been written
  auto make_upto = [&](size_t last) {
    for (; made <= last; ++made) dwconv_pad_row<V>(p, a, made, made % ring, ring);
  };
  auto row_ptr = [&](size_t work_row, size_t c) {
    const size_t q = (c * dw) % sw;
    return a.work + (q * ring + work_row % ring) * a.work_w + (c * dw) / sw;
  };
  size_t oh = 0;
  if (sh == 1 && dh == 1) {
    const float* src[(KH + 1) * KW];
    for (; oh + 2 <= a.oh; oh += 2) {
      make_upto(oh + KH);
      for (int i = 0; i <= KH; ++i)
        for (int c = 0; c < KW; ++c) src[i * KW + c] = row_ptr(oh + i, c);
      const float* res = a.residual ? a.residual + oh * a.ow : nullptr;
      dwconv_two_rows<V, KH, KW, kBlock>(wt, bias, src, a.ow, a.y + oh * a.ow, a.y + (oh + 1) * a.ow, res,
                                         res ? res + a.ow : nullptr);
    }
  }
  const float* tap_src[KT];
  for (; oh < a.oh; ++oh) {
    make_upto(oh * sh + (KH - 1) * dh);
    for (int t = 0; t < KT; ++t) tap_src[t] = row_ptr(oh * sh + (t / KW) * dh, t % KW);
    dwconv_row_fixed<V, KT, kBlock>(wt, bias, tap_src, a.ow, a.y + oh * a.ow,
                                    a.residual ? a.residual + oh * a.ow : nullptr);
  }
}

template <class V>
inline void dwconv_plane(const fc::ConvParams& p, const fc::DwPlaneArgs& a) {
  constexpr int W = V::W, kBlock = 4;
  constexpr size_t kMaxTaps = 256;  // larger kernels take the per-row pointer table in chunks
  if constexpr (V::W >= 8) {  // AVX2, AVX-512: see dwconv_is_direct_3x3
    if (fc::dwconv_is_direct_3x3(p)) return fc::dw3x3_plane_direct<V>(p, a);
  }
  if (p.kernel_h == 3 && p.kernel_w == 3) return dwconv_plane_fixed<V, 3, 3>(p, a);
  if (p.kernel_h == 5 && p.kernel_w == 5) return dwconv_plane_fixed<V, 5, 5>(p, a);
  dwconv_pad_split<V>(p, a);
  const size_t sh = p.stride_h, sw = p.stride_w, dh = p.dilation_h, dw = p.dilation_w;
  const size_t kh = p.kernel_h, kw = p.kernel_w, taps = kh * kw;
  const size_t vecs = (a.ow + W - 1) / W;
  const float* tap_src[kMaxTaps];
  for (size_t oh = 0; oh < a.oh; ++oh) {
    float* out = a.y + oh * a.ow;
    const float* res = a.residual ? a.residual + oh * a.ow : nullptr;
    if (taps > kMaxTaps) {  // rare: very large depthwise kernels, done tap by tap in scalar
      for (size_t ow = 0; ow < a.ow; ++ow) {
        float s = a.bias;
        for (size_t r = 0; r < kh; ++r)
          for (size_t c = 0; c < kw; ++c) {
            const size_t q = (c * dw) % sw, j = ow + (c * dw) / sw;
            s += a.w[r * kw + c] * a.work[(q * a.work_rows + oh * sh + r * dh) * a.work_w + j];
          }
        out[ow] = res ? s + res[ow] : s;
      }
      continue;
    }
    for (size_t r = 0; r < kh; ++r)
      for (size_t c = 0; c < kw; ++c) {
        const size_t q = (c * dw) % sw;
        tap_src[r * kw + c] = a.work + (q * a.work_rows + oh * sh + r * dh) * a.work_w + (c * dw) / sw;
      }
    size_t v = 0;
    for (; v + kBlock <= vecs; v += kBlock) dwconv_row_block<V, kBlock>(p, a, tap_src, v * W, kBlock, out, res);
    if (v < vecs) dwconv_row_block<V, kBlock>(p, a, tap_src, v * W, vecs - v, out, res);
  }
}

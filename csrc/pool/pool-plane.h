// Pooling over vector traits V. The window is separable, so each output row is two passes
// over contiguous memory: a vertical reduction of the kh input rows into a padded row
// buffer (padding = the reduction's identity), then a horizontal reduction along it.
// Both passes are plain vector loops; only a strided layer pays a scalar subsampling step.
#pragma once
#include <cstddef>

#include "pool/pool-kernels.h"

template <class V, class Op>
struct PoolPlane {
  using reg = typename V::reg;
  static constexpr int W = V::W;

  static inline void fill(float* p, size_t n, float v) {
    size_t i = 0;
    for (; i + W <= n; i += W) V::store(p + i, V::set1(v));
    if (i < n) V::store_n(p + i, V::set1(v), static_cast<int>(n - i));
  }

  // acc[i] = op(acc[i], x[i]) for i < n.
  static inline void combine(float* acc, const float* x, size_t n) {
    size_t i = 0;
    for (; i + W <= n; i += W) V::store(acc + i, Op::apply(V::load(acc + i), V::load(x + i)));
    if (i < n) {
      const int r = static_cast<int>(n - i);
      V::store_n(acc + i, Op::apply(V::load_n(acc + i, r), V::load_n(x + i, r)), r);
    }
  }

  // out[i] = op over s < kw of row[i + s * dw], for i < n.
  static inline void horizontal(const float* row, float* out, size_t n, size_t kw, size_t dw) {
    size_t i = 0;
    for (; i + W <= n; i += W) {
      reg m = V::load(row + i);
      for (size_t s = 1; s < kw; ++s) m = Op::apply(m, V::load(row + i + s * dw));
      V::store(out + i, m);
    }
    if (i < n) {
      const int r = static_cast<int>(n - i);
      reg m = V::load_n(row + i, r);
      for (size_t s = 1; s < kw; ++s) m = Op::apply(m, V::load_n(row + i + s * dw, r));
      V::store_n(out + i, m, r);
    }
  }

  // Output row oy of the plane into out (ow floats), before any averaging.
  static inline void row(const fc::PoolParams& p, const fc::PoolPlaneArgs& a, size_t oy, float* out) {
    const size_t len = p.row_len();
    float* acc = a.work;
    float* hor = a.work + len + W;
    fill(acc, len, Op::identity());
    const size_t n_in = p.w < len - p.pl ? p.w : len - p.pl;  // input columns the windows reach
    for (size_t r = 0; r < p.kh; ++r) {
      const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * p.sh + r * p.dh) - static_cast<ptrdiff_t>(p.pt);
      if (iy < 0 || iy >= static_cast<ptrdiff_t>(p.h)) continue;
      combine(acc + p.pl, a.x + static_cast<size_t>(iy) * p.w, n_in);
    }
    if (p.sw == 1) {
      horizontal(acc, out, p.ow, p.kw, p.dw);
    } else {
      const size_t n = (p.ow - 1) * p.sw + 1;
      horizontal(acc, hor, n, p.kw, p.dw);
      for (size_t ox = 0; ox < p.ow; ++ox) out[ox] = hor[ox * p.sw];
    }
  }
};

template <class V>
struct MaxOp {
  static inline typename V::reg apply(typename V::reg a, typename V::reg b) { return V::max(a, b); }
  static inline float apply1(float a, float b) { return a > b ? a : b; }
  static inline float identity() { return -__builtin_inff(); }
};

template <class V>
struct SumOp {
  static inline typename V::reg apply(typename V::reg a, typename V::reg b) { return V::add(a, b); }
  static inline float apply1(float a, float b) { return a + b; }
  static inline float identity() { return 0.f; }
};

template <class V>
inline void maxpool_plane(const fc::PoolParams& p, const fc::PoolPlaneArgs& a) {
  for (size_t oy = 0; oy < p.oh; ++oy) PoolPlane<V, MaxOp<V>>::row(p, a, oy, a.y + oy * p.ow);
}

template <class V>
inline void avgpool_plane(const fc::PoolParams& p, const fc::PoolPlaneArgs& a) {
  constexpr int W = V::W;
  for (size_t oy = 0; oy < p.oh; ++oy) {
    float* out = a.y + oy * p.ow;
    PoolPlane<V, SumOp<V>>::row(p, a, oy, out);
    const typename V::reg ir = V::set1(a.inv_row[oy]);
    size_t i = 0;
    for (; i + W <= p.ow; i += W) V::store(out + i, V::mul(V::mul(V::load(out + i), V::load(a.inv_col + i)), ir));
    if (i < p.ow) {
      const int r = static_cast<int>(p.ow - i);
      V::store_n(out + i, V::mul(V::mul(V::load_n(out + i, r), V::load_n(a.inv_col + i, r)), ir), r);
    }
  }
}

// Reduction of n contiguous floats with four independent accumulators (latency-bound otherwise).
template <class V, class Op>
inline float reduce(const float* x, size_t n) {
  using reg = typename V::reg;
  constexpr int W = V::W;
  reg a0 = V::set1(Op::identity()), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = Op::apply(a0, V::load(x + i));
    a1 = Op::apply(a1, V::load(x + i + W));
    a2 = Op::apply(a2, V::load(x + i + 2 * W));
    a3 = Op::apply(a3, V::load(x + i + 3 * W));
  }
  for (; i + W <= n; i += W) a0 = Op::apply(a0, V::load(x + i));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    float tail[W];
    for (int l = 0; l < W; ++l) tail[l] = l < r ? x[i + l] : Op::identity();
    a1 = Op::apply(a1, V::load(tail));
  }
  a0 = Op::apply(Op::apply(a0, a1), Op::apply(a2, a3));
  float lanes[W];
  V::store(lanes, a0);
  float out = lanes[0];
  for (int l = 1; l < W; ++l) out = Op::apply1(out, lanes[l]);
  return out;
}

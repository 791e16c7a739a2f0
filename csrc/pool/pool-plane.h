// Pooling over vector traits V. The window is separable, so each output row is two passes
// over contiguous memory: a vertical reduction of the kh input rows into a padded row
// buffer (padding = the reduction's identity), then a horizontal reduction along it.
// Both passes are plain vector loops; other strides than 1 pay a scalar subsampling step,
// except stride 2 with windows up to 3 wide (every downsampling pool of the zoo CNNs), which
// runs in registers: row_s2 below.
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

  static inline void copy(float* acc, const float* x, size_t n) {
    size_t i = 0;
    for (; i + W <= n; i += W) V::store(acc + i, V::load(x + i));
    if (i < n) V::store_n(acc + i, V::load_n(x + i, static_cast<int>(n - i)), static_cast<int>(n - i));
  }

  // acc[i] = op(x0[i], x1[i]) for i < n.
  static inline void first(float* acc, const float* x0, const float* x1, size_t n) {
    size_t i = 0;
    for (; i + W <= n; i += W) V::store(acc + i, Op::apply(V::load(x0 + i), V::load(x1 + i)));
    if (i < n) {
      const int r = static_cast<int>(n - i);
      V::store_n(acc + i, Op::apply(V::load_n(x0 + i, r), V::load_n(x1 + i, r)), r);
    }
  }

  // out[i] = scale[i] * op over s < kw of row[i + s * dw], for i < n (scale null: 1).
  static inline void horizontal(const float* row, float* out, size_t n, size_t kw, size_t dw, const float* scale,
                                reg scale_row) {
    size_t i = 0;
    for (; i + W <= n; i += W) {
      reg m = V::load(row + i);
      for (size_t s = 1; s < kw; ++s) m = Op::apply(m, V::load(row + i + s * dw));
      if (scale) m = V::mul(V::mul(m, V::load(scale + i)), scale_row);
      V::store(out + i, m);
    }
    if (i < n) {
      const int r = static_cast<int>(n - i);
      reg m = V::load_n(row + i, r);
      for (size_t s = 1; s < kw; ++s) m = Op::apply(m, V::load_n(row + i + s * dw, r));
      if (scale) m = V::mul(V::mul(m, V::load_n(scale + i, r)), scale_row);
      V::store_n(out + i, m, r);
    }
  }

  // The op over the valid input rows of one vector of input columns [col, col + W); columns
  // outside [0, w) (and a window with no row inside the plane) are the identity, never read.
  static inline reg column(const float* const* rows, int nrows, ptrdiff_t col, ptrdiff_t w) {
    if (nrows == 0) return V::set1(Op::identity());
    if (col >= 0 && col + W <= w) {
      reg v = V::load(rows[0] + col);
      for (int i = 1; i < nrows; ++i) v = Op::apply(v, V::load(rows[i] + col));
      return v;
    }
    const int lo = static_cast<int>(col >= 0 ? 0 : -col < W ? -col : W);
    const int hi = static_cast<int>(w - col >= W ? W : w - col > lo ? w - col : lo);
    if (lo >= hi) return V::set1(Op::identity());
    reg v = V::load_range_fill(rows[0] + col, lo, hi, Op::identity());
    for (int i = 1; i < nrows; ++i) v = Op::apply(v, V::load_range_fill(rows[i] + col, lo, hi, Op::identity()));
    return v;
  }

  // Stride 2, dilation 1, kw <= 3: output row oy without the row buffer. W outputs at ox read
  // input columns c = 2 ox - pl .. c + 2W: the rows are reduced per vector first (A = [c, c+W),
  // B = [c+W, c+2W), C = [c+2W, c+3W), which is the next W outputs' A), A and B split into even
  // and odd columns (taps 0 and 1), and tap 2 is the even columns shifted by one with C's first.
  static constexpr size_t kMaxRows = 16;
  static inline void row_s2(const fc::PoolParams& p, const fc::PoolPlaneArgs& a, size_t oy, float* out, bool avg) {
    const float* rows[kMaxRows];
    int nrows = 0;
    for (size_t r = 0; r < p.kh; ++r) {
      const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * p.sh + r * p.dh) - static_cast<ptrdiff_t>(p.pt);
      if (iy >= 0 && iy < static_cast<ptrdiff_t>(p.h)) rows[nrows++] = a.x + static_cast<size_t>(iy) * p.w;
    }
    const ptrdiff_t w = static_cast<ptrdiff_t>(p.w);
    const reg scale_row = V::set1(avg ? a.inv_row[oy] : 1.f);
    reg A = column(rows, nrows, -static_cast<ptrdiff_t>(p.pl), w);
    for (size_t ox = 0; ox < p.ow; ox += W) {
      const ptrdiff_t c = 2 * static_cast<ptrdiff_t>(ox) - static_cast<ptrdiff_t>(p.pl);
      const reg B = column(rows, nrows, c + W, w), C = column(rows, nrows, c + 2 * W, w);
      reg even, odd;
      V::deinterleave(A, B, even, odd);
      reg m = even;
      if (p.kw >= 2) m = Op::apply(m, odd);
      if (p.kw == 3) m = Op::apply(m, V::template shift_in<1>(even, C));
      const int n = p.ow - ox < static_cast<size_t>(W) ? static_cast<int>(p.ow - ox) : W;
      if (avg) m = V::mul(V::mul(m, V::load_n(a.inv_col + ox, n)), scale_row);
      if (n == W)
        V::store(out + ox, m);
      else
        V::store_n(out + ox, m, n);
      A = C;
    }
  }

  // Output row oy of the plane into out (ow floats); avg: scaled by inv_row[oy] * inv_col[ox].
  static inline void row(const fc::PoolParams& p, const fc::PoolPlaneArgs& a, size_t oy, float* out, bool avg) {
    if (p.sw == 2 && p.dw == 1 && p.kw <= 3 && p.kh <= kMaxRows) return row_s2(p, a, oy, out, avg);
    const size_t len = p.row_len();
    float* acc = a.work;
    float* hor = a.work + len + 2 * W;
    const size_t n_in = p.w < len - p.pl ? p.w : len - p.pl;  // input columns the windows reach
    fill(acc, p.pl, Op::identity());                          // padding: the reduction's identity
    fill(acc + p.pl + n_in, len - p.pl - n_in, Op::identity());
    const float* rows[2];
    int pending = 0;
    bool started = false;
    for (size_t r = 0; r < p.kh; ++r) {
      const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * p.sh + r * p.dh) - static_cast<ptrdiff_t>(p.pt);
      if (iy < 0 || iy >= static_cast<ptrdiff_t>(p.h)) continue;
      const float* x = a.x + static_cast<size_t>(iy) * p.w;
      if (started) {
        combine(acc + p.pl, x, n_in);
      } else {  // the first two rows go straight into acc: no identity fill, one pass fewer
        rows[pending++] = x;
        if (pending == 2) {
          first(acc + p.pl, rows[0], rows[1], n_in);
          started = true;
        }
      }
    }
    if (!started) {
      if (pending == 1)
        copy(acc + p.pl, rows[0], n_in);
      else
        fill(acc + p.pl, n_in, Op::identity());
    }
    const float* scale = avg ? a.inv_col : nullptr;
    const reg scale_row = V::set1(avg ? a.inv_row[oy] : 1.f);
    if (p.sw == 1) {
      horizontal(acc, out, p.ow, p.kw, p.dw, scale, scale_row);
    } else {
      const size_t n = (p.ow - 1) * p.sw + 1;
      horizontal(acc, hor, n, p.kw, p.dw, nullptr, scale_row);
      if (avg)
        for (size_t ox = 0; ox < p.ow; ++ox) out[ox] = hor[ox * p.sw] * a.inv_col[ox] * a.inv_row[oy];
      else
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

// 3x3, stride 1, padding 1 max pool of a plane taken as one flat array of n = h * w floats,
// so vectors run across row ends instead of one short row at a time (a 14 x 14 plane is 13
// vectors, not 14 rows of 14 lanes each): horizontal max of each position with its row
// neighbours (a neighbour across a row end is masked to -inf through a.left / a.right),
// then the vertical max of three such rows, w apart. The plane is copied between -inf
// guards first so that every load stays inside the work buffer.
template <class V>
inline void maxpool_plane_3x3_same(const fc::PoolParams& p, const fc::PoolPlaneArgs& a) {
  using reg = typename V::reg;
  constexpr int W = V::W;
  const size_t n = p.h * p.w, w = p.w;
  const float ninf = -__builtin_inff();
  float* xs = a.work;              // [ -inf | plane (n) | -inf x W ]: xs[1 + i] = x[i]
  float* hm = a.work + n + W + 8;  // [ -inf x w | row maxima (n) | -inf x (w + W) ]
  xs[0] = ninf;
  PoolPlane<V, MaxOp<V>>::copy(xs + 1, a.x, n);
  PoolPlane<V, MaxOp<V>>::fill(xs + 1 + n, W, ninf);
  PoolPlane<V, MaxOp<V>>::fill(hm, w, ninf);
  PoolPlane<V, MaxOp<V>>::fill(hm + w + n, w + W, ninf);
  float* row_max = hm + w;
  for (size_t i = 0; i < n; i += W) {  // reads xs up to n + W: inside the guard
    const reg mid = V::load(xs + 1 + i);
    const reg l = V::min(V::load(xs + i), V::load(a.left + i));
    const reg r = V::min(V::load(xs + 2 + i), V::load(a.right + i));
    V::store(row_max + i, V::max(mid, V::max(l, r)));
  }
  PoolPlane<V, MaxOp<V>>::fill(row_max + n, w + W, ninf);  // the last vector wrote past n
  size_t i = 0;
  for (; i + W <= n; i += W)
    V::store(a.y + i, V::max(V::load(row_max + i), V::max(V::load(row_max + i - w), V::load(row_max + i + w))));
  if (i < n) {
    const reg m = V::max(V::load(row_max + i), V::max(V::load(row_max + i - w), V::load(row_max + i + w)));
    V::store_n(a.y + i, m, static_cast<int>(n - i));
  }
}

template <class V>
inline void maxpool_plane(const fc::PoolParams& p, const fc::PoolPlaneArgs& a) {
  if (p.is_3x3_same() && a.left) return maxpool_plane_3x3_same<V>(p, a);
  for (size_t oy = 0; oy < p.oh; ++oy) PoolPlane<V, MaxOp<V>>::row(p, a, oy, a.y + oy * p.ow, false);
}

template <class V>
inline void avgpool_plane(const fc::PoolParams& p, const fc::PoolPlaneArgs& a) {
  for (size_t oy = 0; oy < p.oh; ++oy) PoolPlane<V, SumOp<V>>::row(p, a, oy, a.y + oy * p.ow, true);
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

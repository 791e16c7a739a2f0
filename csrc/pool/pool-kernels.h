// Pooling kernels, one set per ISA (files f32-pool-<isa>.cc): plain data and signatures only.
#pragma once
#include <algorithm>
#include <cstddef>

namespace fc {

// One 2-D pooling window geometry on one h x w plane producing oh x ow outputs.
struct PoolParams {
  size_t kh, kw, sh, sw, dh, dw;  // window, stride, dilation
  size_t pt, pl;                  // padding before the first row / column (the rest is implied by oh, ow)
  size_t h, w, oh, ow;
  // Padded row length the horizontal pass reads: (ow - 1) * sw + (kw - 1) * dw + 1.
  size_t row_len() const { return (ow - 1) * sw + (kw - 1) * dw + 1; }
  // A 3x3 window, stride 1, padding 1 all round (the output has the input's size): the
  // inception-module pool, run over the whole plane as one flat array (maxpool_plane).
  bool is_3x3_same() const {
    return kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && pt == 1 && pl == 1 && oh == h && ow == w;
  }
};

// work: pool_work_floats(p) floats of per-thread scratch.
// avg: inv_row[oy] * inv_col[ox] is 1 / (number of counted taps) of output (oy, ox).
// is_3x3_same max: left[i] / right[i] is +inf where flat position i has a left / right
// neighbour in its row and -inf where it is the row's first / last (h * w + 64 floats).
struct PoolPlaneArgs {
  const float* x;  // h x w
  float* y;        // oh x ow
  float* work;
  const float* inv_row;  // avg only
  const float* inv_col;  // avg only
  const float* left = nullptr;
  const float* right = nullptr;
};

inline size_t pool_work_floats(const PoolParams& p) {
  const size_t rows = 2 * p.row_len() + 256;
  return p.is_3x3_same() ? std::max(rows, 2 * p.h * p.w + 2 * p.w + 256) : rows;
}

using pool_plane_fn = void (*)(const PoolParams& p, const PoolPlaneArgs& a);

// One output row of one channel block of a blocked tensor (conv/convc-kernels.h): x the block's
// h x w x 16 plane, taps rows [t0, t1) of the window (those inside the input) from input row
// ih0; y the row's ow x 16 outputs. avg: scaled by inv_h * inv_col[ox].
struct PoolBlockedRow {
  const float* x;
  float* y;
  ptrdiff_t ih0;
  size_t t0, t1;
  float inv_h;
  const float* inv_col;  // avg only
};
using pool_blocked_row_fn = void (*)(const PoolParams& p, const PoolBlockedRow& a);
using global_pool_fn = float (*)(const float* x, size_t n);  // sum or max of n floats

void f32_maxpool_blocked_row__scalar(const PoolParams& p, const PoolBlockedRow& a);
void f32_maxpool_blocked_row__avx2(const PoolParams& p, const PoolBlockedRow& a);
void f32_maxpool_blocked_row__avx512f(const PoolParams& p, const PoolBlockedRow& a);
void f32_avgpool_blocked_row__scalar(const PoolParams& p, const PoolBlockedRow& a);
void f32_avgpool_blocked_row__avx2(const PoolParams& p, const PoolBlockedRow& a);
void f32_avgpool_blocked_row__avx512f(const PoolParams& p, const PoolBlockedRow& a);
void f32_maxpool_plane__scalar(const PoolParams& p, const PoolPlaneArgs& a);
void f32_maxpool_plane__avx2(const PoolParams& p, const PoolPlaneArgs& a);
void f32_maxpool_plane__avx512f(const PoolParams& p, const PoolPlaneArgs& a);
void f32_avgpool_plane__scalar(const PoolParams& p, const PoolPlaneArgs& a);
void f32_avgpool_plane__avx2(const PoolParams& p, const PoolPlaneArgs& a);
void f32_avgpool_plane__avx512f(const PoolParams& p, const PoolPlaneArgs& a);
float f32_rsum__scalar(const float* x, size_t n);
float f32_rsum__avx2(const float* x, size_t n);
float f32_rsum__avx512f(const float* x, size_t n);
float f32_rmax__scalar(const float* x, size_t n);
float f32_rmax__avx2(const float* x, size_t n);
float f32_rmax__avx512f(const float* x, size_t n);

}  // namespace fc

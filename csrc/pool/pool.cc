#include "common/isa.h"
#include "pool/pool.h"
#include "common/parallel.h"

#include <vector>

#include "common/check.h"
#include "common/scratch.h"
#include "pool/pool-kernels.h"

namespace fc {
namespace {

struct PoolKernels {
  pool_plane_fn max_plane, avg_plane;
  global_pool_fn sum, max;
};

PoolKernels kernels(Isa isa) {
  return {FC_KERNEL_FOR_ISA(isa, f32_maxpool_plane), FC_KERNEL_FOR_ISA(isa, f32_avgpool_plane),
          FC_KERNEL_FOR_ISA(isa, f32_rsum), FC_KERNEL_FOR_ISA(isa, f32_rmax)};
}

// 1 / (taps of each output position counted by the average) along one axis: taps inside
// the input, or inside input + padding with count_include_pad. The 2-D count is the product.
std::vector<float> inverse_counts(size_t out, size_t in, size_t k, size_t s, size_t p0, size_t p1, bool include_pad) {
  std::vector<float> inv(out);
  const ptrdiff_t lo = include_pad ? -static_cast<ptrdiff_t>(p0) : 0;
  const ptrdiff_t hi = static_cast<ptrdiff_t>(in) + (include_pad ? static_cast<ptrdiff_t>(p1) : 0);
  for (size_t o = 0; o < out; ++o) {
    const ptrdiff_t start = static_cast<ptrdiff_t>(o * s) - static_cast<ptrdiff_t>(p0);
    ptrdiff_t count = 0;
    for (size_t t = 0; t < k; ++t) count += (start + static_cast<ptrdiff_t>(t) >= lo && start + static_cast<ptrdiff_t>(t) < hi);
    inv[o] = count > 0 ? 1.f / static_cast<float>(count) : 0.f;
  }
  return inv;
}

}  // namespace

size_t Pool2d::out_size(size_t in, size_t k, size_t s, size_t d, size_t p0, size_t p1, bool ceil_mode) {
  const size_t span = d * (k - 1) + 1, padded = in + p0 + p1;
  FC_CHECK(padded >= span, "the pooling window (", span, ") is larger than the padded input (", padded, " = ", in,
           " + padding ", p0, " + ", p1, ")");
  size_t out = (padded - span + (ceil_mode ? s - 1 : 0)) / s + 1;
  if (ceil_mode && (out - 1) * s >= in + p0) --out;  // the last window would start in the trailing padding
  return out;
}

void validate(const Pool2d& p) {
  FC_CHECK(p.kh >= 1 && p.kw >= 1 && p.sh >= 1 && p.sw >= 1 && p.dh >= 1 && p.dw >= 1,
           "pooling kernel, stride and dilation must be >= 1, got kernel ", p.kh, "x", p.kw, ", stride ", p.sh, "x",
           p.sw, ", dilation ", p.dh, "x", p.dw);
  const size_t eh = p.dh * (p.kh - 1) + 1, ew = p.dw * (p.kw - 1) + 1;
  FC_CHECK(p.pt < eh && p.pb < eh && p.pl < ew && p.pr < ew, "pooling padding (", p.pt, ", ", p.pl, ", ", p.pb, ", ",
           p.pr, ") must be smaller than the window (", eh, "x", ew, ")");
}

void pool2d(const Pool2d& p, const float* x, size_t n, size_t c, size_t h, size_t w, float* y, size_t y_image,
            int nthreads, Isa isa) {
  validate(p);
  PoolParams pp{p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, h, w, p.out_h(h), p.out_w(w)};
  FC_CHECK(y_image >= c * pp.oh * pp.ow, "output images overlap: ", y_image, " floats apart for ", c * pp.oh * pp.ow,
           " per image");
  // One window that is exactly the plane (ResNet's and GoogLeNet's final 7x7 average pool) is a
  // global pool: one reduction per plane instead of the row machinery and its per-plane setup.
  if (pp.oh == 1 && pp.ow == 1 && p.kh == h && p.kw == w && p.dh == 1 && p.dw == 1 && p.pt == 0 && p.pl == 0 &&
      p.pb == 0 && p.pr == 0 && (n == 1 || y_image == c))
    return global_pool(p.kind, x, n * c, h * w, y, nthreads, isa);
  const PoolKernels k = kernels(isa);
  const bool avg = p.kind == PoolKind::avg;
  std::vector<float> inv_row, inv_col;
  if (avg) {
    inv_row = inverse_counts(pp.oh, h, p.kh, p.sh, p.pt, p.pb, p.count_include_pad);
    inv_col = inverse_counts(pp.ow, w, p.kw, p.sw, p.pl, p.pr, p.count_include_pad);
  }
  // The row-end masks of the flat 3x3 max pool (PoolPlaneArgs), shared by every plane;
  // 64 floats past h * w for the last vector of any ISA.
  std::vector<float> left, right;
  if (!avg && pp.is_3x3_same()) {
    left.assign(h * w + 64, __builtin_inff());
    right.assign(h * w + 64, __builtin_inff());
    for (size_t r = 0; r < h; ++r) {
      left[r * w] = -__builtin_inff();
      right[r * w + w - 1] = -__builtin_inff();
    }
  }
  const pool_plane_fn plane = avg ? k.avg_plane : k.max_plane;
  const size_t work = pool_work_floats(pp);
  parallel_for_items(n * c, h * w + pp.oh * pp.ow, nthreads, [&](size_t i) {
    PoolPlaneArgs a{x + i * h * w, y + (i / c) * y_image + (i % c) * pp.oh * pp.ow, thread_scratch(kScratchOp0, work),
                    inv_row.data(), inv_col.data(), left.empty() ? nullptr : left.data(),
                    right.empty() ? nullptr : right.data()};
    plane(pp, a);
  });
}

void global_pool(PoolKind kind, const float* x, size_t planes, size_t hw, float* y, int nthreads, Isa isa) {
  FC_CHECK(hw >= 1, "global pooling needs a non-empty plane");
  const PoolKernels k = kernels(isa);
  const global_pool_fn reduce = kind == PoolKind::avg ? k.sum : k.max;
  const float scale = kind == PoolKind::avg ? 1.f / static_cast<float>(hw) : 1.f;
  parallel_for_items(planes, hw, nthreads, [&](size_t i) {
    const float r = reduce(x + i * hw, hw);
    y[i] = kind == PoolKind::avg ? r * scale : r;
  });
}


// Channel-blocked tensors (conv/convc-kernels.h): threads take (image, block, output row).
void pool2d_blocked(const Pool2d& p, const float* x, size_t n, size_t c, size_t h, size_t w, float* y,
                    size_t y_image, int nthreads, Isa isa) {
  constexpr size_t B = 16;
  FC_CHECK(c % B == 0, "a blocked tensor needs a multiple of ", B, " channels, got ", c);
  FC_CHECK(p.kind == PoolKind::max || (p.dh == 1 && p.dw == 1), "blocked average pooling has no dilation");
  const size_t oh = p.out_h(h), ow = p.out_w(w), blocks = c / B;
  FC_CHECK(y_image >= c * oh * ow, "output images overlap: ", y_image, " floats apart for ", c * oh * ow);
  const bool avg = p.kind == PoolKind::avg;
  const std::vector<float> inv_h = avg ? inverse_counts(oh, h, p.kh, p.sh, p.pt, p.pb, p.count_include_pad)
                                       : std::vector<float>();
  const std::vector<float> inv_w = avg ? inverse_counts(ow, w, p.kw, p.sw, p.pl, p.pr, p.count_include_pad)
                                       : std::vector<float>();
  const pool_blocked_row_fn row = avg ? FC_KERNEL_FOR_ISA(isa, f32_avgpool_blocked_row)
                                      : FC_KERNEL_FOR_ISA(isa, f32_maxpool_blocked_row);
  const PoolParams pp{p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, h, w, oh, ow};
  parallel_for_items(n * blocks * oh, ow * p.kh * p.kw * B, nthreads, [&](size_t item) {
    const size_t i = item % oh, plane = item / oh, b = plane / blocks, k = plane % blocks;
    PoolBlockedRow a;
    a.x = x + (b * blocks + k) * h * w * B;
    a.y = y + b * y_image + (k * oh + i) * ow * B;
    a.ih0 = static_cast<ptrdiff_t>(i * p.sh) - static_cast<ptrdiff_t>(p.pt);
    // window rows inside the input: ih0 + t * dh in [0, h)
    const ptrdiff_t dh = static_cast<ptrdiff_t>(p.dh);
    a.t0 = a.ih0 >= 0 ? 0 : static_cast<size_t>((-a.ih0 + dh - 1) / dh);
    const ptrdiff_t last = static_cast<ptrdiff_t>(h) - 1 - a.ih0;
    a.t1 = last < 0 ? 0 : std::min(p.kh, static_cast<size_t>(last / dh) + 1);
    a.t0 = std::min(a.t0, a.t1);
    a.inv_h = avg ? inv_h[i] : 1.f;
    a.inv_col = avg ? inv_w.data() : nullptr;
    row(pp, a);
  });
}

// y (n, c) = mean or max over the hw positions of each channel of blocked x (ceil(c / 16)
// blocks; the last block's lanes past c are padding, not read into y).
void global_pool_blocked(PoolKind kind, const float* x, size_t n, size_t c, size_t hw, float* y, int nthreads) {
  constexpr size_t B = 16;
  const size_t blocks = (c + B - 1) / B;
  parallel_for_items(n * blocks, hw * B, nthreads, [&](size_t plane) {
    const float* xp = x + plane * hw * B;
    float acc[B];
    for (size_t l = 0; l < B; ++l) acc[l] = kind == PoolKind::avg ? 0.f : -__builtin_inff();
    for (size_t q = 0; q < hw; ++q)
      for (size_t l = 0; l < B; ++l)
        acc[l] = kind == PoolKind::avg ? acc[l] + xp[q * B + l] : (acc[l] > xp[q * B + l] ? acc[l] : xp[q * B + l]);
    const float scale = kind == PoolKind::avg && hw > 0 ? 1.f / static_cast<float>(hw) : 1.f;
    const size_t b = plane / blocks, c0 = plane % blocks * B;
    for (size_t l = 0; l < B && c0 + l < c; ++l) y[b * c + c0 + l] = acc[l] * scale;
  });
}

}  // namespace fc

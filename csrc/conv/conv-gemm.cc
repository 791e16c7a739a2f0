// Convolution as GEMM per image and group: Y_g[K/g x OH*OW] = W_g[K/g x C/g*R*S] * col(X_g).
// W_g is packed once here; col(X_g) is never materialised: Im2colB writes it straight
// into the packed B panels the micro-kernel reads.
#include <algorithm>
#include <cstring>
#include <vector>

#include "conv/conv-algo.h"
#include "conv/im2col-kernels.h"
#include "conv/row-phases.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "gemm/gemm.h"

namespace fc {
namespace {

// B[k][j] = x[c][oh*sh - pt + r*dh][ow*sw - pl + s*dw] (0 outside), k = (c, r, s), j = (oh, ow).
//
// With a column stride sw > 1 the input is first split by column phase (`phases`, see
// split_phases): phase q of a row holds columns q, q + sw, q + 2 sw, ..., so every
// im2col row segment is again a contiguous copy instead of a strided gather.
class Im2colB final : public BSource {
 public:
  Im2colB(const ConvParams& p, const Im2colKernels& kernels, const float* x, size_t h, size_t w, size_t oh, size_t ow,
          const float* phases = nullptr)
      : p_(p), kernels_(kernels), x_(x), phases_(phases), h_(h), w_(w), oh_(oh), ow_(ow),
        wq_((w + p.stride_w - 1) / p.stride_w), taps_(p.kernel_w) {
    for (size_t s = 0; s < p.kernel_w; ++s) taps_[s] = column_tap(s);
  }

  // phases[(c * sw + q) * h * wq + i * wq + jj] = x[c][i][jj * sw + q] (0 past the row's end),
  // rows shared out over the threads (the RGB stem: 3 channels, 224 rows each). Power-of-two
  // strides split in registers (RowPhases: a strided scalar copy cost ~1% of SqueezeNet at
  // stride 2), others element by element.
  static void split_phases(const ConvParams& p, const Im2colKernels& kernels, const float* x, size_t channels, size_t h,
                           size_t w, float* phases, int nthreads) {
    const size_t sw = p.stride_w, wq = (w + sw - 1) / sw;
    parallel_for_items(channels * h, w, nthreads, [&](size_t row) {
      const size_t c = row / h, i = row % h;
      const float* src = x + (c * h + i) * w;
      float* out[kMaxHalvedStride];
      for (size_t q = 0; q < std::min(sw, kMaxHalvedStride); ++q) out[q] = phases + ((c * sw + q) * h + i) * wq;
      RowPhases split;
      if (split.build(kernels, src, w, sw, thread_scratch(kScratchTile, RowPhases::scratch_floats(w)), out, wq)) return;
      for (size_t q = 0; q < sw; ++q) {
        float* dst = phases + ((c * sw + q) * h + i) * wq;
        size_t jj = 0;
        for (; jj * sw + q < w; ++jj) dst[jj] = src[jj * sw + q];
        for (; jj < wq; ++jj) dst[jj] = 0.f;
      }
    });
  }

  // Each im2col row is formed contiguously in a small per-thread buffer (one vector copy
  // per output row) and then cut into the NR-wide panels: far cheaper than forming it
  // panel by panel, which pays the (oh, ow) split and a short copy for every NR columns.
  // Taps advance incrementally and each column tap's geometry is computed once (taps_):
  // integer divisions per k row cost as much as the copies on the stems.
  void pack(const GemmConfig& cfg, size_t k0, size_t kc, size_t j0, size_t nc, float* buf) const override {
    const size_t nr = cfg.nr, panels = (nc + nr - 1) / nr;
    float* row = thread_scratch(kScratchTile, panels * nr);  // kScratchTile: here and in split_phases, before
    std::fill(row + nc, row + panels * nr, 0.f);
    const size_t kw = p_.kernel_w, kh = p_.kernel_h, oh0 = j0 / ow_, ow0 = j0 % ow_;
    size_t s = k0 % kw, r = (k0 / kw) % kh, c = k0 / (kw * kh);
    for (size_t k = 0; k < kc; ++k) {
      fill_row(c, r, taps_[s], oh0, ow0, nc, row);
      kernels_.scatter(row, panels, nr, kc * nr, buf + k * nr);
      if (++s == kw) {
        s = 0;
        if (++r == kh) r = 0, ++c;
      }
    }
  }

 private:
  // Where column tap s reads: input columns base + ow * step of rows `pitch` apart, in the
  // plane (or phase plane) of channel c at plane_offset + c * plane_stride; output columns
  // [lo, hi) land inside the row's valid columns (the same for every output row).
  struct ColumnTap {
    ptrdiff_t base, step, pitch, lo, hi;
    size_t plane_offset, plane_stride;  // plane of channel c: plane_offset + c * plane_stride
  };

  ColumnTap column_tap(size_t s) const {
    const ptrdiff_t sw = static_cast<ptrdiff_t>(p_.stride_w);
    ColumnTap t{};
    t.base = static_cast<ptrdiff_t>(s * p_.dilation_w) - static_cast<ptrdiff_t>(p_.pad_left);
    t.step = sw;
    t.pitch = static_cast<ptrdiff_t>(w_);
    t.plane_offset = 0;
    t.plane_stride = h_ * w_;
    ptrdiff_t wi = static_cast<ptrdiff_t>(w_);
    if (phases_) {  // input column base + ow*sw = (ow + base') * sw + q: phase q, column ow + base'
      const ptrdiff_t q = ((t.base % sw) + sw) % sw;
      t.base = (t.base - q) / sw;
      t.step = 1;
      t.pitch = static_cast<ptrdiff_t>(wq_);
      t.plane_offset = static_cast<size_t>(q) * h_ * wq_;
      t.plane_stride = static_cast<size_t>(sw) * h_ * wq_;
      wi = (static_cast<ptrdiff_t>(w_) - q + sw - 1) / sw;  // valid columns of this phase
    }
    const ptrdiff_t owi = static_cast<ptrdiff_t>(ow_);
    t.lo = std::min(t.base >= 0 ? 0 : (-t.base + t.step - 1) / t.step, owi);
    t.hi = std::clamp(t.base >= wi ? 0 : (wi - t.base + t.step - 1) / t.step, t.lo, owi);
    return t;
  }

  // Writes `count` values of one im2col row starting at output position (oh, ow0), one output row at a time.
  void fill_row(size_t c, size_t r, const ColumnTap& t, size_t oh, size_t ow0, size_t count, float* dst) const {
    const float* plane = (phases_ ? phases_ : x_) + t.plane_offset + c * t.plane_stride;
    ptrdiff_t ih = static_cast<ptrdiff_t>(oh * p_.stride_h + r * p_.dilation_h) - static_cast<ptrdiff_t>(p_.pad_top);
    const ptrdiff_t sh = static_cast<ptrdiff_t>(p_.stride_h), hi_rows = static_cast<ptrdiff_t>(h_);
    while (count > 0) {
      const size_t seg = std::min(count, ow_ - ow0);
      if (ih < 0 || ih >= hi_rows) {
        kernels_.segment(dst, nullptr, 0, 0, seg);  // a padding row: zeros
      } else {
        const ptrdiff_t o = static_cast<ptrdiff_t>(ow0), sg = static_cast<ptrdiff_t>(seg);
        const ptrdiff_t lo = std::clamp<ptrdiff_t>(t.lo - o, 0, sg), hi = std::clamp<ptrdiff_t>(t.hi - o, lo, sg);
        const float* src = plane + ih * t.pitch + t.base + o * t.step;
        if (t.step == 1) {
          kernels_.segment(dst, src, static_cast<size_t>(lo), static_cast<size_t>(hi), seg);
        } else {
          std::fill(dst, dst + lo, 0.f);
          for (ptrdiff_t q = lo; q < hi; ++q) dst[q] = src[q * t.step];
          std::fill(dst + hi, dst + seg, 0.f);
        }
      }
      dst += seg;
      count -= seg;
      ow0 = 0;
      ih += sh;
    }
  }

  const ConvParams& p_;
  const Im2colKernels& kernels_;
  const float* x_;
  const float* phases_;  // null: read x_ directly
  size_t h_, w_, oh_, ow_, wq_;
  std::vector<ColumnTap> taps_;  // per column tap s
};

class GemmConv final : public ConvAlgorithm {
 public:
  // transposed: compute y^T = x^T w^T, output positions as the GEMM's rows (kTileTransposed
  // stores it back as NCHW). Few positions (7x7 = 49) pad to MR = 8 rows instead of
  // NR = 32 columns: 56 instead of 64, the last row tile running 1 row.
  GemmConv(const ConvLayer& l, bool pointwise, bool transposed)
      : p_(l.p),
        pointwise_(pointwise),
        transposed_(transposed),
        act_(l.act),
        cfg_(gemm_config(l.isa)),
        kernels_(im2col_kernels(l.isa)) {
    const size_t kg = p_.group_out(), depth = p_.gemm_depth();
    for (size_t g = 0; g < p_.groups; ++g) {
      const float* wg = l.weight + g * kg * depth;
      if (transposed_)
        weights_t_.emplace_back(cfg_, depth, kg, StridedMatrix{wg, 1, static_cast<ptrdiff_t>(depth)});
      else
        weights_.emplace_back(cfg_, kg, depth, StridedMatrix{wg, static_cast<ptrdiff_t>(depth), 1});
    }
    if (l.bias) bias_.assign(l.bias, l.bias + p_.out_channels);
  }

  const char* name() const override {
    return pointwise_ ? (transposed_ ? "pointwise_t" : "pointwise") : (transposed_ ? "im2col_t" : "im2col");
  }

  // One GEMM per (image, group). With enough of them to share out evenly, each thread runs
  // whole GEMMs on its own (no synchronisation inside one, every B panel packed by the
  // thread that uses it); otherwise they run one after another, each GEMM split over the
  // threads. Batch 8 of ResNet-50's 7x7 and 14x14 layers is where this pays.
  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    const size_t units = n * p_.groups, nt = static_cast<size_t>(std::max(1, nthreads));
    if (nt > 1 && (units % nt == 0 || units >= 4 * nt)) {
      parallel_for(units, nthreads,
                   [&](size_t u) { run_one(x, u / p_.groups, u % p_.groups, h, w, y, y_image, residual, 1); });
      return;
    }
    for (size_t b = 0; b < n; ++b)
      for (size_t g = 0; g < p_.groups; ++g) run_one(x, b, g, h, w, y, y_image, residual, nthreads);
  }

 private:
  void run_one(const float* x, size_t b, size_t g, size_t h, size_t w, float* y, size_t y_image,
               const float* residual, int nthreads) const {
    const size_t oh = p_.out_h(h), ow = p_.out_w(w), spatial = oh * ow;
    const size_t cg = p_.group_in(), kg = p_.group_out();
    const float* xg = x + (b * p_.in_channels + g * cg) * h * w;
    const size_t out_off = b * y_image + g * kg * spatial;
    Epilogue ep;
    ep.bias = bias_.empty() ? nullptr : bias_.data() + g * kg;
    ep.residual = residual ? residual + (b * p_.out_channels + g * kg) * spatial : nullptr;
    ep.ld_residual = static_cast<ptrdiff_t>(spatial);
    ep.act = act_;
    ep.bias_per_column = transposed_;
    ep.transposed = transposed_;
    if (pointwise_) {
      const ptrdiff_t plane = static_cast<ptrdiff_t>(h * w);
      if (transposed_)
        gemm(cfg_, spatial, kg, cg, StridedA({xg, 1, plane}), weights_t_[g], y + out_off, spatial, ep, nthreads);
      else
        gemm(cfg_, kg, spatial, cg, weights_[g], StridedB({xg, plane, 1}), y + out_off, spatial, ep, nthreads);
      return;
    }
    // Split by column phase when strided and the split pays: each input element is
    // read by about kh*kw/sw^2 im2col rows, so copying it once first is cheap.
    const float* phases = nullptr;
    if (p_.stride_w > 1 && p_.kernel_h * p_.kernel_w >= p_.stride_w) {
      const size_t wq = (w + p_.stride_w - 1) / p_.stride_w;
      float* buf = thread_scratch(kScratchOp1, cg * p_.stride_w * h * wq);
      Im2colB::split_phases(p_, kernels_, xg, cg, h, w, buf, nthreads);
      phases = buf;
    }
    Im2colB src(p_, kernels_, xg, h, w, oh, ow, phases);
    if (transposed_)
      gemm(cfg_, spatial, kg, p_.gemm_depth(), ASourceFromB(src), weights_t_[g], y + out_off, spatial, ep, nthreads);
    else
      gemm(cfg_, kg, spatial, p_.gemm_depth(), weights_[g], src, y + out_off, spatial, ep, nthreads);
  }

 private:
  ConvParams p_;
  bool pointwise_;  // B is the input itself: 1x1, stride 1, no padding
  bool transposed_;
  Activation act_;
  const GemmConfig& cfg_;
  const Im2colKernels& kernels_;
  std::vector<PackedA> weights_;    // A = weights (kg x depth), one per group
  std::vector<PackedB> weights_t_;  // transposed: B = weights^T (depth x kg)
  std::vector<float> bias_;
};

}  // namespace

const Im2colKernels& im2col_kernels(Isa isa) {
  static const Im2colKernels table[kIsaCount] = {
      {FC_KERNEL_FOR_ISA(Isa::generic, f32_im2col_segment), FC_KERNEL_FOR_ISA(Isa::generic, f32_im2col_scatter),
       FC_KERNEL_FOR_ISA(Isa::generic, f32_im2col_deinterleave), FC_KERNEL_FOR_ISA(Isa::generic, f32_im2col_channels_last)},
      {FC_KERNEL_FOR_ISA(Isa::avx2, f32_im2col_segment), FC_KERNEL_FOR_ISA(Isa::avx2, f32_im2col_scatter),
       FC_KERNEL_FOR_ISA(Isa::avx2, f32_im2col_deinterleave), FC_KERNEL_FOR_ISA(Isa::avx2, f32_im2col_channels_last)},
      {FC_KERNEL_FOR_ISA(Isa::avx512, f32_im2col_segment), FC_KERNEL_FOR_ISA(Isa::avx512, f32_im2col_scatter),
       FC_KERNEL_FOR_ISA(Isa::avx512, f32_im2col_deinterleave), FC_KERNEL_FOR_ISA(Isa::avx512, f32_im2col_channels_last)},
  };
  return table[static_cast<int>(isa)];
}

std::unique_ptr<ConvAlgorithm> make_im2col_conv(const ConvLayer& layer, bool transposed) {
  return std::make_unique<GemmConv>(layer, false, transposed);
}

std::unique_ptr<ConvAlgorithm> make_pointwise_conv(const ConvLayer& layer, bool transposed) {
  return std::make_unique<GemmConv>(layer, true, transposed);
}

}  // namespace fc

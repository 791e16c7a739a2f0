// Convolution as GEMM per image and group: Y_g[K/g x OH*OW] = W_g[K/g x C/g*R*S] * col(X_g).
// W_g is packed once here; col(X_g) is never materialised: Im2colB writes it straight
// into the packed B panels the micro-kernel reads.
#include <algorithm>
#include <cstring>

#include "conv/conv-algo.h"
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
  Im2colB(const ConvParams& p, const float* x, size_t h, size_t w, size_t oh, size_t ow, const float* phases = nullptr)
      : p_(p), x_(x), phases_(phases), h_(h), w_(w), oh_(oh), ow_(ow), wq_((w + p.stride_w - 1) / p.stride_w) {}

  // phases[(c * sw + q) * h * wq + i * wq + jj] = x[c][i][jj * sw + q] (0 past the row's end),
  // rows shared out over the threads (the RGB stem: 3 channels, 224 rows each).
  static void split_phases(const ConvParams& p, const float* x, size_t channels, size_t h, size_t w, float* phases,
                           int nthreads) {
    const size_t sw = p.stride_w, wq = (w + sw - 1) / sw;
    parallel_for_items(channels * h, w, nthreads, [&](size_t row) {
      const size_t c = row / h, i = row % h;
      const float* src = x + (c * h + i) * w;
      for (size_t q = 0; q < sw; ++q) {
        float* dst = phases + ((c * sw + q) * h + i) * wq;
        size_t jj = 0;
        for (; jj * sw + q < w; ++jj) dst[jj] = src[jj * sw + q];
        for (; jj < wq; ++jj) dst[jj] = 0.f;
      }
    });
  }

  // Each im2col row is formed contiguously in a small per-thread buffer (long memcpy
  // runs, one per output row) and then cut into the NR-wide panels with fixed-size
  // copies: far cheaper than forming it panel by panel, which pays the (oh, ow) split
  // and a short memcpy for every NR columns.
  void pack(const GemmConfig& cfg, size_t k0, size_t kc, size_t j0, size_t nc, float* buf) const override {
    const size_t nr = cfg.nr, panels = (nc + nr - 1) / nr;
    float* row = thread_scratch(kScratchTile, panels * nr);  // kScratchTile: used only here
    std::fill(row + nc, row + panels * nr, 0.f);
    for (size_t k = 0; k < kc; ++k) {
      const size_t kk = k0 + k;
      const size_t s = kk % p_.kernel_w, r = (kk / p_.kernel_w) % p_.kernel_h, c = kk / (p_.kernel_w * p_.kernel_h);
      fill_row(c, r, s, j0, nc, row);
      float* dst = buf + k * nr;
      switch (nr) {  // fixed sizes compile to plain vector moves
        case 32: scatter<32>(row, panels, kc, dst); break;
        case 16: scatter<16>(row, panels, kc, dst); break;
        case 8: scatter<8>(row, panels, kc, dst); break;
        default:
          for (size_t p = 0; p < panels; ++p) std::memcpy(dst + p * kc * nr, row + p * nr, nr * sizeof(float));
      }
    }
  }

 private:
  template <size_t NR>
  static void scatter(const float* row, size_t panels, size_t kc, float* dst) {
    for (size_t p = 0; p < panels; ++p) std::memcpy(dst + p * kc * NR, row + p * NR, NR * sizeof(float));
  }

  // Writes `count` values of one im2col row starting at output position j, one output row at a time.
  void fill_row(size_t c, size_t r, size_t s, size_t j, size_t count, float* dst) const {
    // Source row for tap (r, s): columns base + ow * step of a row of `wi` floats.
    const ptrdiff_t sw = static_cast<ptrdiff_t>(p_.stride_w);
    ptrdiff_t base = static_cast<ptrdiff_t>(s * p_.dilation_w) - static_cast<ptrdiff_t>(p_.pad_left);
    const float* plane = x_ + c * h_ * w_;
    ptrdiff_t step = sw, wi = static_cast<ptrdiff_t>(w_), pitch = wi;
    if (phases_) {  // input column base + ow*sw = (ow + base') * sw + q: phase q, column ow + base'
      const ptrdiff_t q = ((base % sw) + sw) % sw;
      base = (base - q) / sw;
      plane = phases_ + (c * sw + q) * h_ * wq_;
      step = 1;
      pitch = static_cast<ptrdiff_t>(wq_);
      wi = (static_cast<ptrdiff_t>(w_) - q + sw - 1) / sw;  // valid columns of this phase
    }
    // Output columns ow with 0 <= base + ow*step < wi: one interval [lo_all, hi_all),
    // the same for every output row.
    const ptrdiff_t owi = static_cast<ptrdiff_t>(ow_);
    ptrdiff_t lo_all = base >= 0 ? 0 : (-base + step - 1) / step;
    ptrdiff_t hi_all = base >= wi ? 0 : (wi - base + step - 1) / step;
    lo_all = std::min(lo_all, owi);
    hi_all = std::clamp(hi_all, lo_all, owi);
    size_t oh = j / ow_, ow0 = j % ow_;
    ptrdiff_t ih = static_cast<ptrdiff_t>(oh * p_.stride_h + r * p_.dilation_h) - static_cast<ptrdiff_t>(p_.pad_top);
    const ptrdiff_t sh = static_cast<ptrdiff_t>(p_.stride_h), hi_rows = static_cast<ptrdiff_t>(h_);
    while (count > 0) {
      const size_t seg = std::min(count, ow_ - ow0);
      if (ih < 0 || ih >= hi_rows) {
        std::fill(dst, dst + seg, 0.f);
      } else {
        const float* row = plane + ih * pitch;
        const ptrdiff_t o = static_cast<ptrdiff_t>(ow0), sg = static_cast<ptrdiff_t>(seg);
        const ptrdiff_t lo = std::clamp<ptrdiff_t>(lo_all - o, 0, sg), hi = std::clamp<ptrdiff_t>(hi_all - o, lo, sg);
        std::fill(dst, dst + lo, 0.f);
        const float* src = row + base + o * step;
        if (step == 1) {
          std::memcpy(dst + lo, src + lo, (hi - lo) * sizeof(float));
        } else {
          for (ptrdiff_t q = lo; q < hi; ++q) dst[q] = src[q * step];
        }
        std::fill(dst + hi, dst + seg, 0.f);
      }
      dst += seg;
      count -= seg;
      ow0 = 0;
      ih += sh;
    }
  }

  const ConvParams& p_;
  const float* x_;
  const float* phases_;  // null: read x_ directly
  size_t h_, w_, oh_, ow_, wq_;
};

class GemmConv final : public ConvAlgorithm {
 public:
  // transposed: compute y^T = x^T w^T, output positions as the GEMM's rows (kTileTransposed
  // stores it back as NCHW). Few positions (7x7 = 49) pad to MR = 8 rows instead of
  // NR = 32 columns: 56 instead of 64, the last row tile running 1 row.
  GemmConv(const ConvLayer& l, bool pointwise, bool transposed)
      : p_(l.p), pointwise_(pointwise), transposed_(transposed), act_(l.act), cfg_(gemm_config(l.isa)) {
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
      Im2colB::split_phases(p_, xg, cg, h, w, buf, nthreads);
      phases = buf;
    }
    Im2colB src(p_, xg, h, w, oh, ow, phases);
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
  std::vector<PackedA> weights_;    // A = weights (kg x depth), one per group
  std::vector<PackedB> weights_t_;  // transposed: B = weights^T (depth x kg)
  std::vector<float> bias_;
};

}  // namespace

std::unique_ptr<ConvAlgorithm> make_im2col_conv(const ConvLayer& layer, bool transposed) {
  return std::make_unique<GemmConv>(layer, false, transposed);
}

std::unique_ptr<ConvAlgorithm> make_pointwise_conv(const ConvLayer& layer, bool transposed) {
  return std::make_unique<GemmConv>(layer, true, transposed);
}

}  // namespace fc

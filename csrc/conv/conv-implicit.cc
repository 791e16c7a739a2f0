// Convolution as an implicit GEMM: Y_g = W_g * col(X_g) with the im2col matrix never formed
// or packed. The input is copied once into a padded layout (split by row and column phase
// when strided) in which row k = (c, r, s) of the im2col matrix is one contiguous run,
//   col[k][oh * wq + ow] = P[offset(k) + oh * wq + ow],
// if each output row is widened to wq = OW + (KW - 1) * dw / sw columns (fewer at stride 1,
// where a row's right padding is the next row's left: implicit-geometry.h). The micro-kernel
// reads those runs in place (igemm: one offset per k) and stores only the OW real columns of
// each widened row (ImplicitB, gemm.h). The copy is about C * H * W floats where im2col packs
// C * KH * KW * OH * OW; the price is the (wq - OW) / wq widened columns computed and dropped.
#include <algorithm>
#include <memory>
#include <vector>

#include "conv/conv-algo.h"
#include "conv/per-input-size.h"
#include "conv/implicit-geometry.h"
#include "conv/row-phases.h"
#include "conv/im2col-kernels.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "gemm/gemm.h"

namespace fc {
namespace {

// The GEMM's B: P read in place (the driver never calls pack() when implicit() is set).
class InPlaceB final : public BSource {
 public:
  explicit InPlaceB(ImplicitB b) : b_(b) {}
  void pack(const GemmConfig&, size_t, size_t, size_t, size_t, float*) const override {}
  const ImplicitB* implicit() const override { return &b_; }

 private:
  ImplicitB b_;
};

class ImplicitConv final : public ConvAlgorithm {
 public:
  explicit ImplicitConv(const ConvLayer& l)
      : p_(l.p), act_(l.act), cfg_(gemm_config(l.isa)), kernels_(im2col_kernels(l.isa)) {
    const size_t kg = p_.group_out(), depth = p_.gemm_depth();
    for (size_t g = 0; g < p_.groups; ++g)
      weights_.emplace_back(cfg_, kg, depth, StridedMatrix{l.weight + g * kg * depth, static_cast<ptrdiff_t>(depth), 1});
    if (l.bias) bias_.assign(l.bias, l.bias + p_.out_channels);
  }

  const char* name() const override { return "implicit"; }

  // As GemmConv::run: whole GEMMs per thread when there are enough (image, group) pairs,
  // else one after another, each split over the threads.
  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    const Layout& lay = layout(h, w);
    const size_t units = n * p_.groups, nt = static_cast<size_t>(std::max(1, nthreads));
    auto one = [&](size_t u, int threads) {
      run_one(lay, x, u / p_.groups, u % p_.groups, h, w, y, y_image, residual, threads);
    };
    if (nt > 1 && (units % nt == 0 || units >= 4 * nt)) {
      parallel_for(units, nthreads, [&](size_t u) { one(u, 1); });
      return;
    }
    for (size_t u = 0; u < units; ++u) one(u, nthreads);
  }

 private:
  // P's geometry for one input size and offsets[k] for k = (c, r, s) of one group: where
  // im2col row k starts in P.
  struct Layout {
    ImplicitGeometry geo;
    std::vector<ptrdiff_t> offsets;
  };

  const Layout& layout(size_t h, size_t w) const { return layouts_.get(h, w, [&] { return make_layout(h, w); }); }

  Layout make_layout(size_t h, size_t w) const {
    Layout l{ImplicitGeometry(p_, h, w), {}};
    const ImplicitGeometry& g = l.geo;
    const size_t ncol = g.col_phases.size();
    l.offsets.reserve(p_.gemm_depth());
    for (size_t c = 0; c < p_.group_in(); ++c)
      for (size_t r = 0; r < p_.kernel_h; ++r)
        for (size_t s = 0; s < p_.kernel_w; ++s) {
          const size_t plane = (c * g.row_phases.size() + g.row_plane[r]) * ncol + g.col_plane[s];
          l.offsets.push_back(static_cast<ptrdiff_t>(plane * g.plane() + g.row_shift[r] * g.wq + g.col_shift[s]));
        }
    return l;
  }

  // Zeros after the last plane: the last row's overhang (< wq) and the last tile's
  // full-width loads (< NR) read them.
  size_t slack(const ImplicitGeometry& g) const { return cfg_.nr + g.wq; }

  // P for the channels of one group: plane (c, row phase i, column phase j) holds
  // P[a][b] = x[c][a * sh + py_i - pt][b * sw + px_j - lead] (0 outside the image), then
  // slack() zeros.
  void fill_padded(const ImplicitGeometry& g, const float* xg, size_t h, size_t w, float* pad, int nthreads) const {
    const size_t nrow = g.row_phases.size(), ncol = g.col_phases.size(), wq = g.wq;
    const size_t sh = p_.stride_h, sw = p_.stride_w, rows = p_.group_in() * nrow * g.hq;
    std::fill(pad + rows * ncol * wq, pad + rows * ncol * wq + slack(g), 0.f);
    parallel_for_items(rows, ncol * wq, nthreads, [&](size_t row) {
      const size_t a = row % g.hq, i = (row / g.hq) % nrow, c = row / (g.hq * nrow);
      float* dst = pad + ((c * nrow + i) * ncol * g.hq + a) * wq;  // phase j's row at dst + j * hq * wq
      const ptrdiff_t ih = static_cast<ptrdiff_t>(a * sh + g.row_phases[i]) - static_cast<ptrdiff_t>(p_.pad_top);
      if (ih < 0 || ih >= static_cast<ptrdiff_t>(h)) {
        for (size_t j = 0; j < ncol; ++j) std::fill(dst + j * g.plane(), dst + j * g.plane() + wq, 0.f);
        return;
      }
      const float* src = xg + (c * h + static_cast<size_t>(ih)) * w;
      // At a power-of-two column stride the row is first split into its phases by halving
      // (even and odd columns, in registers) until the stride is reached, so each of the
      // layer's column phases is a shifted copy of one of them; other strides gather.
      RowPhases split;
      const bool halves = split.build(kernels_, src, w, sw, thread_scratch(kScratchTile, RowPhases::scratch_floats(w)));
      for (size_t j = 0; j < ncol; ++j) {
        // Column b of this phase is input column b * sw + first (0 outside the row).
        const ptrdiff_t first = static_cast<ptrdiff_t>(g.col_phases[j]) - static_cast<ptrdiff_t>(g.lead);
        float* out = dst + j * g.plane();
        if (halves) {  // split.at[q][b + shift] with first = sw * shift + q
          const ptrdiff_t step = static_cast<ptrdiff_t>(sw), q = (first % step + step) % step, shift = (first - q) / step;
          const ptrdiff_t lo = std::clamp<ptrdiff_t>(-shift, 0, wq);
          const ptrdiff_t hi = std::clamp<ptrdiff_t>(static_cast<ptrdiff_t>(split.len[q]) - shift, lo, wq);
          kernels_.segment(out, split.at[q] + shift, static_cast<size_t>(lo), static_cast<size_t>(hi), wq);
          continue;
        }
        const ptrdiff_t step = static_cast<ptrdiff_t>(sw), iw = static_cast<ptrdiff_t>(w);
        for (ptrdiff_t b = 0; b < static_cast<ptrdiff_t>(wq); ++b) {
          const ptrdiff_t col = first + b * step;
          out[b] = col >= 0 && col < iw ? src[col] : 0.f;
        }
      }
    });
  }

  void run_one(const Layout& lay, const float* x, size_t b, size_t g, size_t h, size_t w, float* y, size_t y_image,
               const float* residual, int nthreads) const {
    const ImplicitGeometry& geo = lay.geo;
    const size_t cg = p_.group_in(), kg = p_.group_out(), spatial = geo.oh * geo.ow;
    float* pad = thread_scratch(kScratchOp1, cg * geo.planes_per_channel() * geo.plane() + slack(geo));
    fill_padded(geo, x + (b * p_.in_channels + g * cg) * h * w, h, w, pad, nthreads);
    Epilogue ep;
    ep.bias = bias_.empty() ? nullptr : bias_.data() + g * kg;
    ep.residual = residual ? residual + (b * p_.out_channels + g * kg) * spatial : nullptr;
    ep.ld_residual = static_cast<ptrdiff_t>(spatial);
    ep.act = act_;
    const InPlaceB src(ImplicitB{pad, lay.offsets.data(), geo.wq, geo.ow});
    gemm(cfg_, kg, geo.columns(), p_.gemm_depth(), weights_[g], src, y + b * y_image + g * kg * spatial, spatial, ep,
         nthreads);
  }

  ConvParams p_;
  Activation act_;
  const GemmConfig& cfg_;
  const Im2colKernels& kernels_;
  std::vector<PackedA> weights_;  // A = weights (kg x depth), one per group
  std::vector<float> bias_;
  PerInputSize<Layout> layouts_;
};

}  // namespace

std::unique_ptr<ConvAlgorithm> make_implicit_conv(const ConvLayer& layer) {
  return std::make_unique<ImplicitConv>(layer);
}

}  // namespace fc

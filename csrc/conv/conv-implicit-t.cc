// Convolution as a transposed implicit GEMM: Y_g^T[OH*OW x K/g] = col(X_g)^T * W_g^T, output
// positions as the GEMM's rows and nothing packed per image. The input is copied once into a
// padded channels-last layout P[y][x][c] (all C channels), in which output position (oh, ow)
// reads, for each kernel row r, one run of KW * C/g floats (taps, then channels; contiguous at
// dilation 1):
//   A[i][k] = P[rows[i] + offsets[k]],  rows[i] = ((oh * sh) * Wp + ow * sw) * C,
//   offsets[k] = (r * dh * Wp + s * dw) * C + c  for k = (r, s, c),
// read in place by the implicit-A micro-kernel (ImplicitA, gemm.h) against the weights packed
// once as B with k in that (r, s, c) order; tiles are stored transposed, into NCHW. P keeps
// only the rows and columns the taps read (ChannelsLastCopy, implicit-geometry.h: a quarter of
// the input at 1x1/2).
//
// What it is for: layers whose positions pad badly to 32-wide column panels while their
// channels fill them (14x14 = 196 positions run as 25 row tiles of 8, where im2col's panels
// compute 208 columns and `implicit`'s widened rows 224), with no im2col packing either
// (onnxruntime's NCHWc kernels vectorize over channels for the same reason).
#include <algorithm>
#include <memory>
#include <vector>

#include "conv/conv-algo.h"
#include "conv/per-input-size.h"
#include "conv/im2col-kernels.h"
#include "conv/implicit-geometry.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "gemm/gemm.h"

namespace fc {
namespace {

// The GEMM's A: P read in place (the driver never calls block() when implicit() is set).
class InPlaceA final : public ASource {
 public:
  explicit InPlaceA(ImplicitA a) : a_(a) {}
  const float* block(const GemmConfig&, size_t, size_t, size_t, size_t, float*) const override { return nullptr; }
  bool prepacked() const override { return true; }
  const ImplicitA* implicit() const override { return &a_; }

 private:
  ImplicitA a_;
};

class ImplicitTConv final : public ConvAlgorithm {
 public:
  explicit ImplicitTConv(const ConvLayer& l)
      : p_(l.p), act_(l.act), cfg_(gemm_config(l.isa)), kernels_(im2col_kernels(l.isa)) {
    // B = W_g^T with rows k = (r, s, c): W is OIHW, so reorder (c, r, s) -> (r, s, c) first.
    const size_t kg = p_.group_out(), cg = p_.group_in(), taps = p_.kernel_h * p_.kernel_w, depth = p_.gemm_depth();
    std::vector<float> wt(depth * kg);
    for (size_t g = 0; g < p_.groups; ++g) {
      for (size_t j = 0; j < kg; ++j)
        for (size_t c = 0; c < cg; ++c)
          for (size_t t = 0; t < taps; ++t) wt[(t * cg + c) * kg + j] = l.weight[((g * kg + j) * cg + c) * taps + t];
      weights_.emplace_back(cfg_, depth, kg, StridedMatrix{wt.data(), static_cast<ptrdiff_t>(kg), 1});
    }
    if (l.bias) bias_.assign(l.bias, l.bias + p_.out_channels);
  }

  const char* name() const override { return "implicit_t"; }

  // Whole images per thread when there are enough to share out evenly, else one after
  // another, each P filled and each GEMM split over the threads.
  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    const Layout& lay = layout(h, w);
    const size_t nt = static_cast<size_t>(std::max(1, nthreads));
    if (nt > 1 && (n % nt == 0 || n >= 4 * nt)) {
      parallel_for(n, nthreads, [&](size_t b) { run_image(lay, x, b, h, w, y, y_image, residual, 1); });
      return;
    }
    for (size_t b = 0; b < n; ++b) run_image(lay, x, b, h, w, y, y_image, residual, nthreads);
  }

 private:
  // P's extent and the GEMM's row and column offsets into it, for one input size.
  struct Layout {
    size_t oh, ow;
    ChannelsLastCopy copy;
    std::vector<ptrdiff_t> rows, offsets;
  };

  const Layout& layout(size_t h, size_t w) const { return layouts_.get(h, w, [&] { return make_layout(h, w); }); }

  Layout make_layout(size_t h, size_t w) const {
    const size_t oh = p_.out_h(h), ow = p_.out_w(w);
    Layout l{oh, ow, ChannelsLastCopy(p_, oh, ow), {}, {}};
    const size_t sh = p_.stride_h / l.copy.row_step, sw = p_.stride_w / l.copy.col_step;  // strides within P
    const size_t c_all = p_.in_channels, wp = l.copy.wp;
    l.rows.reserve(oh * ow);
    for (size_t i = 0; i < oh; ++i)
      for (size_t j = 0; j < ow; ++j) l.rows.push_back(static_cast<ptrdiff_t>((i * sh * wp + j * sw) * c_all));
    l.offsets.reserve(p_.gemm_depth());
    for (size_t r = 0; r < p_.kernel_h; ++r)
      for (size_t s = 0; s < p_.kernel_w; ++s)
        for (size_t c = 0; c < p_.group_in(); ++c)
          l.offsets.push_back(static_cast<ptrdiff_t>((r * p_.dilation_h * wp + s * p_.dilation_w) * c_all + c));
    return l;
  }

  // P[y][x][c] = x[c][y * row_step - pt][x * col_step - pl] (0 outside the image), rows shared
  // out over the threads, each transposed to channels-last by the ISA's copy kernel.
  void fill_padded(const Layout& l, const float* xb, size_t h, size_t w, float* pad, int nthreads) const {
    const size_t c_all = p_.in_channels, wp = l.copy.wp, cs = l.copy.col_step;
    // Columns x of P whose input column x * cs - pl lies inside the row: [x_lo, x_hi).
    const size_t x_lo = std::min((p_.pad_left + cs - 1) / cs, wp);
    const size_t x_hi = std::max(x_lo, std::min((w + p_.pad_left + cs - 1) / cs, wp));
    parallel_for_items(l.copy.hp, wp * c_all, nthreads, [&](size_t yrow) {
      float* dst = pad + yrow * wp * c_all;
      const ptrdiff_t ih = static_cast<ptrdiff_t>(yrow * l.copy.row_step) - static_cast<ptrdiff_t>(p_.pad_top);
      if (ih < 0 || ih >= static_cast<ptrdiff_t>(h) || x_lo == x_hi) {
        std::fill(dst, dst + wp * c_all, 0.f);
        return;
      }
      std::fill(dst, dst + x_lo * c_all, 0.f);
      std::fill(dst + x_hi * c_all, dst + wp * c_all, 0.f);
      const size_t col = x_lo * cs - p_.pad_left;  // input column of P's column x_lo
      kernels_.channels_last(xb + static_cast<size_t>(ih) * w + col, h * w, cs, w - col, x_hi - x_lo, c_all,
                             dst + x_lo * c_all, c_all);
    });
  }

  void run_image(const Layout& l, const float* x, size_t b, size_t h, size_t w, float* y, size_t y_image,
                 const float* residual, int nthreads) const {
    const size_t c_all = p_.in_channels, cg = p_.group_in(), kg = p_.group_out(), spatial = l.oh * l.ow;
    float* pad = thread_scratch(kScratchOp1, l.copy.hp * l.copy.wp * c_all);
    fill_padded(l, x + b * c_all * h * w, h, w, pad, nthreads);
    for (size_t g = 0; g < p_.groups; ++g) {
      Epilogue ep;
      ep.bias = bias_.empty() ? nullptr : bias_.data() + g * kg;
      ep.bias_per_column = true;
      ep.residual = residual ? residual + (b * p_.out_channels + g * kg) * spatial : nullptr;
      ep.ld_residual = static_cast<ptrdiff_t>(spatial);
      ep.act = act_;
      ep.transposed = true;
      const InPlaceA src(ImplicitA{pad + g * cg, l.rows.data(), l.offsets.data()});
      gemm(cfg_, spatial, kg, p_.gemm_depth(), src, weights_[g], y + b * y_image + g * kg * spatial, spatial, ep,
           nthreads);
    }
  }

  ConvParams p_;
  Activation act_;
  const GemmConfig& cfg_;
  const Im2colKernels& kernels_;
  std::vector<PackedB> weights_;  // B = W_g^T (depth x kg, rows k = (r, s, c)), one per group
  std::vector<float> bias_;
  PerInputSize<Layout> layouts_;
};

}  // namespace

std::unique_ptr<ConvAlgorithm> make_implicit_t_conv(const ConvLayer& layer) {
  return std::make_unique<ImplicitTConv>(layer);
}

}  // namespace fc

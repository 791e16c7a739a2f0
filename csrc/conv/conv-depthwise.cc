// Direct depthwise convolution: each (image, output channel) plane is independent, so
// threads take runs of planes (or row bands of few large ones); the activation runs on
// each plane while it is still in cache.
#include <algorithm>
#include <vector>

#include "common/isa.h"
#include "act/activation.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "conv/conv-algo.h"
#include "conv/dwconv-kernels.h"

namespace fc {
namespace {

dwconv_plane_fn dw_kernel(Isa isa) {
  return FC_KERNEL_FOR_ISA(isa, f32_dwconv_plane);
}

// Row bands are whole multiples of the 3x3 kernel's row tiles (4 or 6 rows: dwconv-3x3.h).
constexpr size_t kBandRows = 12;

class DepthwiseConv final : public ConvAlgorithm {
 public:
  explicit DepthwiseConv(const ConvLayer& l)
      : p_(l.p), isa_(l.isa), act_(l.act), kernel_(dw_kernel(l.isa)), act_fn_(act_kernel(l.isa)),
        weight_(l.weight, l.weight + l.p.out_channels * l.p.kernel_h * l.p.kernel_w),
        bias_(l.p.out_channels, 0.f) {
    if (l.bias) bias_.assign(l.bias, l.bias + l.p.out_channels);
  }

  const char* name() const override { return "depthwise"; }

  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    const size_t oh = p_.out_h(h), ow = p_.out_w(w), taps = p_.kernel_h * p_.kernel_w;
    const size_t k = p_.out_channels, mult = p_.group_out(), planes = n * k;
    const bool direct = isa_ != Isa::generic && dwconv_is_direct_3x3(p_);
    // The padded, phase-split copy of the input rows (DwPlaneArgs): full vector loads of
    // the last output vector stay inside it, for vectors of up to 16 floats.
    const size_t work_rows = (oh - 1) * p_.stride_h + (p_.kernel_h - 1) * p_.dilation_h + 1;
    const size_t work_w = (ow + 15) / 16 * 16 + (p_.kernel_w - 1) * p_.dilation_w / p_.stride_w;
    const size_t work = direct ? w : p_.stride_w * work_rows * work_w;
    // Items: (plane, row band). Whole planes when there are ~4 per thread (parallel_for_items
    // runs small ones several to a task); with fewer, the direct 3x3 kernel splits them into bands.
    const size_t want = 4 * static_cast<size_t>(nthreads > 1 ? nthreads : 1);
    size_t bands = direct && planes < want ? std::min((want + planes - 1) / planes, (oh + kBandRows - 1) / kBandRows)
                                           : 1;
    const size_t band_rows = ((oh + bands - 1) / bands + kBandRows - 1) / kBandRows * kBandRows;
    bands = (oh + band_rows - 1) / band_rows;
    parallel_for_items(planes * bands, band_rows * ow, nthreads, [&](size_t item) {
      const size_t i = item / bands, oh0 = item % bands * band_rows, oh1 = std::min(oh, oh0 + band_rows);
      const size_t b = i / k, ch = i % k, c = ch / mult;
      DwPlaneArgs a;
      a.x = x + (b * p_.in_channels + c) * h * w;
      a.w = weight_.data() + ch * taps;
      a.bias = bias_[ch];
      a.residual = residual ? residual + i * oh * ow : nullptr;
      a.y = y + b * y_image + ch * oh * ow;
      a.h = h;
      a.w_in = w;
      a.oh = oh;
      a.ow = ow;
      a.oh0 = oh0;
      a.oh1 = oh1;
      a.work_rows = work_rows;
      a.work_w = work_w;
      a.work = thread_scratch(kScratchOp0, work);
      kernel_(p_, a);
      if (act_.kind != ActKind::none) act_fn_(act_, a.y + oh0 * ow, (oh1 - oh0) * ow);
    });
  }

 private:
  ConvParams p_;
  Isa isa_;
  Activation act_;
  dwconv_plane_fn kernel_;
  act_kernel_fn act_fn_;
  std::vector<float> weight_, bias_;
};

}  // namespace

std::unique_ptr<ConvAlgorithm> make_depthwise_conv(const ConvLayer& layer) {
  return std::make_unique<DepthwiseConv>(layer);
}

}  // namespace fc

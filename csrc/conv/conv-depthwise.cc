// Direct depthwise convolution: each (image, output channel) plane is independent, so
// threads take planes; the activation runs on each plane while it is still in cache.
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

class DepthwiseConv final : public ConvAlgorithm {
 public:
  explicit DepthwiseConv(const ConvLayer& l)
      : p_(l.p), act_(l.act), kernel_(dw_kernel(l.isa)), act_fn_(act_kernel(l.isa)),
        weight_(l.weight, l.weight + l.p.out_channels * l.p.kernel_h * l.p.kernel_w),
        bias_(l.p.out_channels, 0.f) {
    if (l.bias) bias_.assign(l.bias, l.bias + l.p.out_channels);
  }

  const char* name() const override { return "depthwise"; }

  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    const size_t oh = p_.out_h(h), ow = p_.out_w(w), taps = p_.kernel_h * p_.kernel_w;
    const size_t k = p_.out_channels, mult = p_.group_out();
    // The padded, phase-split copy of the input rows (DwPlaneArgs): full vector loads of
    // the last output vector stay inside it, for vectors of up to 16 floats.
    const size_t work_rows = (oh - 1) * p_.stride_h + (p_.kernel_h - 1) * p_.dilation_h + 1;
    const size_t work_w = (ow + 15) / 16 * 16 + (p_.kernel_w - 1) * p_.dilation_w / p_.stride_w;
    parallel_for(n * k, nthreads, [&](size_t i) {
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
      a.work_rows = work_rows;
      a.work_w = work_w;
      a.work = thread_scratch(kScratchOp0, p_.stride_w * work_rows * work_w);
      kernel_(p_, a);
      act_fn_(act_, a.y, oh * ow);
    });
  }

 private:
  ConvParams p_;
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

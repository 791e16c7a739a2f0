// The direct convolution for NCHW callers: the blocked direct kernel (conv-nchwc.cc) reads
// the NCHW input as it is (one channel per input block) and writes blocked output into this
// thread's scratch, and each of its tasks copies the part it finished into the NCHW output
// while that is in cache. No im2col and no packing per call. (Tiles stored transposed
// straight into NCHW were slower: 32 channel rows per tile, 48 bytes each.)
#include <algorithm>
#include <memory>
#include <mutex>

#include "common/scratch.h"
#include "conv/conv-algo.h"
#include "conv/conv-nchwc.h"

namespace fc {
namespace {

class DirectConv final : public ConvAlgorithm {
 public:
  explicit DirectConv(const ConvLayer& l) : layer_(l) {}
  const char* name() const override { return "direct"; }

  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    const ConvParams& p = layer_.p;
    const size_t k = p.out_channels, kb = blocked_channels(k), plane = p.out_h(h) * p.out_w(w);
    if (n == 0 || plane == 0) return;
    const BlockedConv& conv = for_cb(blocked_direct_cb(p, h, w));
    // Images in chunks of about 16 MB of blocked output, so that the scratch stays bounded
    // at any batch size.
    const size_t chunk = std::clamp<size_t>((size_t{4} << 20) / (kb * plane), 1, n);
    for (size_t b0 = 0; b0 < n; b0 += chunk) {
      const size_t m = std::min(chunk, n - b0);
      float* yb = thread_scratch(kScratchOp1, m * kb * plane);
      float* rb = nullptr;
      if (residual) {
        rb = thread_scratch(kScratchOp2, m * kb * plane);
        nchw_to_blocked(residual + b0 * k * plane, m, k, plane, k * plane, rb, kb * plane, nthreads, layer_.isa);
      }
      conv.run_to_nchw(x + b0 * p.in_channels * h * w, m, h, w, yb, kb * plane, rb, y + b0 * y_image, y_image,
                       nthreads);
    }
  }

 private:
  // The kernel for a tile shape blocked_direct_cb picks (0: the ISA's preferred blocks, 1),
  // its weights packed on first use: a plan runs one input size or few, so one shape.
  const BlockedConv& for_cb(int cb) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<BlockedConv>& slot = convs_[cb];
    if (!slot) slot = std::make_unique<BlockedConv>(layer_, cb, kConvcNchwInput);
    return *slot;
  }

  ConvLayer layer_;  // its weights are the plan's, valid while this lives (conv-algo.h)
  mutable std::mutex mu_;
  mutable std::unique_ptr<BlockedConv> convs_[2];
};

}  // namespace

std::unique_ptr<ConvAlgorithm> make_direct_conv(const ConvLayer& layer) { return std::make_unique<DirectConv>(layer); }

}  // namespace fc

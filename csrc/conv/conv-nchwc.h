// A convolution layer on channel-blocked tensors (NCHW16c, convc-kernels.h): weights packed
// once at construction; input and output blocked (output channels padded to whole blocks);
// groups 1.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "act/activation.h"
#include "common/aligned.h"
#include "conv/conv-algo.h"
#include "conv/convc-kernels.h"
#include "gemm/gemm-ukernel.h"

namespace fc {

// One algorithm on blocked tensors, bound to a layer's weights (packed at construction).
class BlockedAlgorithm {
 public:
  virtual ~BlockedAlgorithm() = default;
  // y = act(conv(x) + bias + residual), x (n, C/16, h, w, 16), y and residual (n, K/16, oh,
  // ow, 16); y's images y_image floats apart (>= K * oh * ow: a Concat's part). Validated by
  // the caller (ConvPlan::run_blocked).
  virtual void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
                   int nthreads) const = 0;
};

// What a blocked algorithm's tiles add to their results: the bias (zeros without one, since
// the tiles always add one; padded to whole blocks), relu/clip/leaky in registers, and any
// other activation over the finished outputs.
struct BlockedEpilogue {
  explicit BlockedEpilogue(const ConvLayer& l);
  // The tile flags of a run, with kTileResidual when it adds a residual.
  GemmTileParams tile_params(bool residual) const;
  // The activation the tiles could not apply, over `count` finished outputs at y.
  void finish(float* y, size_t count) const {
    if (act_after) act_fn(act, y, count);
  }
  Activation act;
  act_kernel_fn act_fn;
  std::vector<float> bias;
  GemmTileParams params;
  bool act_after;
};

// Winograd F(m x m, 3x3), m in {2, 3, 4, 6}, on blocked tensors (conv-winograd-blocked.cc):
// 3x3, stride 1, dilation 1, groups 1, channel counts multiples of 16.
std::unique_ptr<BlockedAlgorithm> make_blocked_winograd(const ConvLayer& layer, int m);

// The direct convolution: any kernel, stride, dilation and padding. cb: output blocks per
// tile (1-4), or 0 for the ISA's preferred count. input: blocked, or NCHW (N, C, H, W) with
// any channel count (a first layer's 3 channels: its output is blocked all the same). Groups:
// on blocked input, with whole blocks of input and output channels per group (AlexNet's).
class BlockedConv final : public BlockedAlgorithm {
 public:
  BlockedConv(const ConvLayer& layer, int cb, ConvcInput input = kConvcBlockedInput);
  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    run_impl(x, n, h, w, y, y_image, residual, nullptr, 0, nthreads);
  }
  // The same, then each task copies the positions it finished from y (blocked) into nchw
  // (n, K, oh, ow; images nchw_image floats apart) while they are in its cache.
  void run_to_nchw(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
                   float* nchw, size_t nchw_image, int nthreads) const {
    run_impl(x, n, h, w, y, y_image, residual, nchw, nchw_image, nthreads);
  }

 private:
  void run_impl(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
                float* nchw, size_t nchw_image, int nthreads) const;
  struct Group {
    size_t block0;    // first output block
    int cb;           // blocks in this group
    size_t w_offset;  // its packed weights
    size_t in0;       // the first input channel its layer group reads (groups > 1)
  };
  ConvParams p_;
  ConvcInput input_;
  Isa isa_;       // its kernels' level (run_to_nchw's copies too)
  size_t lanes_;  // input floats per position and block: 16 blocked, 1 NCHW
  const ConvcKernels* kernels_;
  AlignedFloats weights_;
  std::vector<Group> groups_;
  BlockedEpilogue ep_;
};

// The output blocks per tile the direct convolution runs a layer with on an h x w input (a
// BlockedConv's cb): a layer with taps and few positions (3x3 at 7x7) takes one block per tile,
// so a row's 7 positions are one tile; others the ISA's preferred count (0). 1x1 layers at 7x7
// run their merged 49 positions as two blocks of 10 or 9 positions: each k step then loads two
// weight vectors for 20 FMAs, where one block's tiles (13 positions) load one for 13 (ResNet-50
// in the model, 1 and 2 threads: 2048x512 0.83-0.87x -> 1.00-1.02x onnxruntime's time,
// 2048x1024 0.89-1.02x -> 0.97-1.12x; with taps, two blocks were 0.88x: bench/RESULTS.md).
inline int blocked_direct_cb(const ConvParams& p, size_t h, size_t w) {
  const bool taps = p.kernel_h > 1 || p.kernel_w > 1;
  return taps && p.out_h(h) * p.out_w(w) <= 64 ? 1 : 0;
}

}  // namespace fc

// The checked shapes of the channel-blocked bindings (bind-conv.cc, bind-layers.cc, and the program
// steps of bind-program.cc): a blocked convolution's input and output, a layout copy's output, the
// extents the per-channel kernels take.
#pragma once
#include <cstddef>
#include <vector>

#include "common/check.h"
#include "conv/conv-plan.h"
#include "conv/convc-kernels.h"

namespace fc {

// x as the per-channel kernels (affine map, LRN, global pooling) see it: (n, c, hw) of an
// (N, C, spatial...) array, or with `blocked` of (N, C/16, H, W, 16), where c then counts blocks of
// kChannelBlock channels. A blocked x of any other shape is refused. x has at least 2 axes.
struct ChannelExtents {
  size_t n, c, hw;
};

template <class Array>
ChannelExtents channel_extents(const Array& x, bool blocked) {
  const size_t nd = static_cast<size_t>(x.ndim());
  FC_CHECK(!blocked || (nd == 5 && static_cast<size_t>(x.shape(4)) == kChannelBlock),
           "a blocked x must be (N, C/16, H, W, ", kChannelBlock, "), got a ", nd, "-D array");
  size_t hw = 1;
  for (size_t i = 2; i < (blocked ? 4 : nd); ++i) hw *= static_cast<size_t>(x.shape(i));
  return {static_cast<size_t>(x.shape(0)), static_cast<size_t>(x.shape(1)), hw};
}

struct BlockedConvShapes {
  ConvcInput input;  // x blocked (N, C/16, H, W, 16), or NCHW (N, C, H, W): a first layer's few channels
  size_t n, h, w;
  std::vector<size_t> x, y;  // what x must be, what y and the residual are
};

template <class Array>
BlockedConvShapes blocked_conv_shapes(const ConvPlan& plan, const Array& x) {
  const ConvParams& p = plan.params();
  const size_t B = kChannelBlock;
  FC_CHECK(x.ndim() == 5 || x.ndim() == 4, "x must be blocked, 5-D (N, C/16, H, W, 16), or NCHW, got ", x.ndim(),
           "-D");
  const ConvcInput input = x.ndim() == 4 ? kConvcNchwInput : kConvcBlockedInput;
  FC_CHECK(plan.can_run_blocked(input), "layer ", p.describe(), " has no blocked form (an input channel count that is a "
           "multiple of ", B, " needed: per group, with output channels too, for grouped layers)");
  const size_t n = x.shape(0), h = x.shape(2), w = x.shape(3);
  std::vector<size_t> xs = input == kConvcNchwInput ? std::vector<size_t>{n, p.in_channels, h, w}
                                                    : std::vector<size_t>{n, p.in_channels / B, h, w, B};
  std::vector<size_t> ys = {n, blocked_channels(p.out_channels) / B, p.out_h(h), p.out_w(w), B};
  return {input, n, h, w, std::move(xs), std::move(ys)};
}

struct ReorderShapes {
  size_t n, c, hw;
  std::vector<size_t> y;
};

// NCHW x -> blocked y (to_blocked), or blocked x -> NCHW y.
template <class Array>
ReorderShapes reorder_shapes(const Array& x, bool to_blocked) {
  const size_t B = kChannelBlock;
  if (to_blocked) {
    FC_CHECK(x.ndim() == 4, "x must be 4-D (N, C, H, W), got ", x.ndim(), "-D");
    const size_t n = x.shape(0), c = x.shape(1), h = x.shape(2), w = x.shape(3);
    FC_CHECK(c % B == 0, "x has ", c, " channels; a blocked tensor needs a multiple of ", B);
    return {n, c, h * w, {n, c / B, h, w, B}};
  }
  FC_CHECK(x.ndim() == 5 && static_cast<size_t>(x.shape(4)) == B, "x must be blocked, 5-D (N, C/16, H, W, 16)");
  const size_t n = x.shape(0), c = x.shape(1) * B, h = x.shape(2), w = x.shape(3);
  return {n, c, h * w, {n, c, h, w}};
}

}  // namespace fc

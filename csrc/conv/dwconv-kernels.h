// Depthwise convolution kernels, one per ISA: one output plane of one channel.
#pragma once
#include <cstddef>

#include "conv/conv-params.h"

namespace fc {

struct DwPlaneArgs {
  const float* x;         // input plane, h x w
  const float* w;         // kernel_h x kernel_w taps
  float bias;
  const float* residual;  // oh x ow or null
  float* y;               // output plane, oh x ow
  size_t h, w_in, oh, ow;
};

using dwconv_plane_fn = void (*)(const ConvParams& p, const DwPlaneArgs& a);

void f32_dwconv_plane__scalar(const ConvParams& p, const DwPlaneArgs& a);
void f32_dwconv_plane__avx2(const ConvParams& p, const DwPlaneArgs& a);
void f32_dwconv_plane__avx512f(const ConvParams& p, const DwPlaneArgs& a);

}  // namespace fc

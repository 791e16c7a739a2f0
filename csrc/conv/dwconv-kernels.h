// Depthwise convolution kernels, one per ISA: one output plane of one channel.
#pragma once
#include <cstddef>

#include "conv/conv-params.h"

namespace fc {

// The kernel first copies the input rows it needs into `work`, zero-padded and split by
// column phase (phase q holds padded columns q, q + sw, q + 2 sw, ...), so every tap of
// every stride is one plain vector load: no bounds checks, no gathers.
struct DwPlaneArgs {
  const float* x;         // input plane, h x w
  const float* w;         // kernel_h x kernel_w taps
  float bias;
  const float* residual;  // oh x ow or null
  float* y;               // output plane, oh x ow
  size_t h, w_in, oh, ow;
  float* work;            // stride_w * work_rows * work_w floats (dwconv_work_shape)
  size_t work_rows;       // padded input rows read: (oh - 1) * sh + (kh - 1) * dh + 1
  size_t work_w;          // floats per phase row: ow rounded up to 16, plus the widest tap offset
};

using dwconv_plane_fn = void (*)(const ConvParams& p, const DwPlaneArgs& a);

void f32_dwconv_plane__scalar(const ConvParams& p, const DwPlaneArgs& a);
void f32_dwconv_plane__avx2(const ConvParams& p, const DwPlaneArgs& a);
void f32_dwconv_plane__avx512f(const ConvParams& p, const DwPlaneArgs& a);

}  // namespace fc

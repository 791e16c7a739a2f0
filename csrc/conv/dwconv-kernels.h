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
  size_t oh0, oh1;        // output rows to compute: the whole plane, or a band of it (direct 3x3 only)
  float* work;            // stride_w * work_rows * work_w floats; for the direct 3x3 plane w_in (a zero row)
  size_t work_rows;       // padded input rows read: (oh - 1) * sh + (kh - 1) * dh + 1
  size_t work_w;          // floats per phase row: ow rounded up to 16, plus the widest tap offset
};

// The 3x3 layers the AVX2 and AVX-512 kernels read directly (dwconv-3x3.h) rather than
// through `work`; only these take row bands. Not the generic kernel: its masked edge loads
// are scalar loops, and there the direct plane measured up to 2.9x slower than the padded
// copy on small planes. Internal linkage: each ISA file keeps its own copy.
static inline bool dwconv_is_direct_3x3(const ConvParams& p) {
  return p.kernel_h == 3 && p.kernel_w == 3 && p.dilation_h == 1 && p.dilation_w == 1 && p.stride_h <= 2 &&
         p.stride_w <= 2;
}

using dwconv_plane_fn = void (*)(const ConvParams& p, const DwPlaneArgs& a);

void f32_dwconv_plane__scalar(const ConvParams& p, const DwPlaneArgs& a);
void f32_dwconv_plane__avx2(const ConvParams& p, const DwPlaneArgs& a);
void f32_dwconv_plane__avx512f(const ConvParams& p, const DwPlaneArgs& a);

}  // namespace fc

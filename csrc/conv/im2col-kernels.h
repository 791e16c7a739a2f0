// The im2col packer's copy kernels, one set per ISA: a run of an im2col row with its
// padding, and a finished row cut into the GEMM's packed panels.
#pragma once
#include <cstddef>

#include "common/isa.h"

namespace fc {

// dst[i] = src[i] for lo <= i < hi and 0 for the other i < n; src is read only in [lo, hi).
// Inline vector moves with masked edges: the libc memcpy/memset calls it replaces cost
// more than the copy on rows of 50-200 floats (ResNet's stem: ~15% of the layer).
using im2col_segment_fn = void (*)(float* dst, const float* src, size_t lo, size_t hi, size_t n);

// dst + p * stride gets row[p * nr, (p + 1) * nr), for each of `panels` panels.
using im2col_scatter_fn = void (*)(const float* row, size_t panels, size_t nr, size_t stride, float* dst);

// even[j] = src[2j], odd[j] = src[2j + 1] where those are < n, 0 up to wq: one input row split
// into its two column phases (stride-2 layers, split_phases in conv-gemm.cc).
using im2col_deinterleave_fn = void (*)(const float* src, size_t n, size_t wq, float* even, float* odd);

// One row of a channels-last copy: dst[x * ld + c] = src[c * plane + x * step] for x < n,
// c < channels; each channel's row has `width` readable floats from src (x * step < width).
// The transposed implicit GEMM's padded input (conv-implicit-t.cc).
using im2col_channels_last_fn = void (*)(const float* src, size_t plane, size_t step, size_t width, size_t n,
                                         size_t channels, float* dst, size_t ld);

struct Im2colKernels {
  im2col_segment_fn segment;
  im2col_scatter_fn scatter;
  im2col_deinterleave_fn deinterleave;
  im2col_channels_last_fn channels_last;
};

const Im2colKernels& im2col_kernels(Isa isa);

void f32_im2col_segment__scalar(float* dst, const float* src, size_t lo, size_t hi, size_t n);
void f32_im2col_segment__avx2(float* dst, const float* src, size_t lo, size_t hi, size_t n);
void f32_im2col_segment__avx512f(float* dst, const float* src, size_t lo, size_t hi, size_t n);
void f32_im2col_scatter__scalar(const float* row, size_t panels, size_t nr, size_t stride, float* dst);
void f32_im2col_scatter__avx2(const float* row, size_t panels, size_t nr, size_t stride, float* dst);
void f32_im2col_scatter__avx512f(const float* row, size_t panels, size_t nr, size_t stride, float* dst);
void f32_im2col_deinterleave__scalar(const float* src, size_t n, size_t wq, float* even, float* odd);
void f32_im2col_deinterleave__avx2(const float* src, size_t n, size_t wq, float* even, float* odd);
void f32_im2col_deinterleave__avx512f(const float* src, size_t n, size_t wq, float* even, float* odd);
void f32_im2col_channels_last__scalar(const float* src, size_t plane, size_t step, size_t width, size_t n,
                                      size_t channels, float* dst, size_t ld);
void f32_im2col_channels_last__avx2(const float* src, size_t plane, size_t step, size_t width, size_t n,
                                    size_t channels, float* dst, size_t ld);
void f32_im2col_channels_last__avx512f(const float* src, size_t plane, size_t step, size_t width, size_t n,
                                       size_t channels, float* dst, size_t ld);

}  // namespace fc

// im2col copy kernels, scalar: im2col-copy.h instantiated with VScalar.
#include "conv/im2col-kernels.h"
#include "conv/im2col-copy.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_im2col_segment__scalar(float* dst, const float* src, size_t lo, size_t hi, size_t n) {
  im2col_segment<VScalar>(dst, src, lo, hi, n);
}

void f32_im2col_scatter__scalar(const float* row, size_t panels, size_t nr, size_t stride, float* dst) {
  im2col_scatter<VScalar>(row, panels, nr, stride, dst);
}

void f32_im2col_deinterleave__scalar(const float* src, size_t n, size_t wq, float* even, float* odd) {
  im2col_deinterleave<VScalar>(src, n, wq, even, odd);
}

void f32_im2col_channels_last__scalar(const float* src, size_t plane, size_t step, size_t width, size_t n,
                                      size_t channels, float* dst, size_t ld) {
  im2col_channels_last<VScalar>(src, plane, step, width, n, channels, dst, ld);
}

}  // namespace fc

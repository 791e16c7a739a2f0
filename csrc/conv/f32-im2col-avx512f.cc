// im2col copy kernels, avx512f: im2col-copy.h instantiated with VAvx512.
#include "conv/im2col-kernels.h"
#include "conv/im2col-copy.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_im2col_segment__avx512f(float* dst, const float* src, size_t lo, size_t hi, size_t n) {
  im2col_segment<VAvx512>(dst, src, lo, hi, n);
}

void f32_im2col_scatter__avx512f(const float* row, size_t panels, size_t nr, size_t stride, float* dst) {
  im2col_scatter<VAvx512>(row, panels, nr, stride, dst);
}

void f32_im2col_deinterleave__avx512f(const float* src, size_t n, size_t wq, float* even, float* odd) {
  im2col_deinterleave<VAvx512>(src, n, wq, even, odd);
}

void f32_im2col_channels_last__avx512f(const float* src, size_t plane, size_t step, size_t width, size_t n,
                                       size_t channels, float* dst, size_t ld) {
  im2col_channels_last<VAvx512>(src, plane, step, width, n, channels, dst, ld);
}

}  // namespace fc

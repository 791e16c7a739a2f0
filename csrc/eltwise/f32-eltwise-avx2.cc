// Element-wise ops with fused activation, avx2: eltwise-math.h over VAvx2.
#include "eltwise/eltwise-kernels.h"
#include "eltwise/eltwise-math.h"
#include "simd/v-avx2.h"

namespace fc {

void f32_vaffine__avx2(const float* x, float* y, size_t n, float scale, float shift, const Activation& act) {
  Eltwise<VAvx2>::affine(x, y, n, scale, shift, act);
}
void f32_vaffine_v__avx2(const float* x, float* y, size_t n, const float* scale, const float* shift,
                         const Activation& act) {
  Eltwise<VAvx2>::affine_v(x, y, n, scale, shift, act);
}
void f32_vaffine_rows__avx2(const float* x, float* y, size_t rows, size_t lanes, const float* scale,
                          const float* shift, const Activation& act) {
  Eltwise<VAvx2>::affine_rows(x, y, rows, lanes, scale, shift, act);
}
void f32_vbinary__avx2(BinaryOp op, const float* a, const float* b, float* y, size_t n, const Activation& act) {
  Eltwise<VAvx2>::binary(op, a, b, y, n, act);
}

}  // namespace fc

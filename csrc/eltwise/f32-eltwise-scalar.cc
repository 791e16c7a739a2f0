// Element-wise ops with fused activation, scalar: eltwise-math.h over VScalar.
#include "eltwise/eltwise-kernels.h"
#include "eltwise/eltwise-math.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_vaffine__scalar(const float* x, float* y, size_t n, float scale, float shift, const Activation& act) {
  Eltwise<VScalar>::affine(x, y, n, scale, shift, act);
}
void f32_vaffine_v__scalar(const float* x, float* y, size_t n, const float* scale, const float* shift,
                         const Activation& act) {
  Eltwise<VScalar>::affine_v(x, y, n, scale, shift, act);
}
void f32_vaffine_rows__scalar(const float* x, float* y, size_t rows, size_t lanes, const float* scale,
                          const float* shift, const Activation& act) {
  Eltwise<VScalar>::affine_rows(x, y, rows, lanes, scale, shift, act);
}
void f32_vbinary__scalar(BinaryOp op, const float* a, const float* b, float* y, size_t n, const Activation& act) {
  Eltwise<VScalar>::binary(op, a, b, y, n, act);
}

}  // namespace fc

// Element-wise activations, avx2: the shared formulas of act-math.h over VAvx2.
#include "act/act-kernels.h"
#include "act/act-math.h"
#include "simd/v-avx2.h"

namespace fc {

void f32_act__avx2(const Activation& act, float* x, size_t n) { ActMath<VAvx2>::apply_array(act, x, n); }

}  // namespace fc

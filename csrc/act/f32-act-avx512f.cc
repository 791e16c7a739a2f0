// Element-wise activations, avx512f: the shared formulas of act-math.h over VAvx512.
#include "act/act-kernels.h"
#include "act/act-math.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_act__avx512f(const Activation& act, float* x, size_t n) { ActMath<VAvx512>::apply_array(act, x, n); }

}  // namespace fc

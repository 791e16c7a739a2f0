// Element-wise activations, scalar: the shared formulas of act-math.h over VScalar.
#include "act/act-kernels.h"
#include "act/act-math.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_act__scalar(const Activation& act, float* x, size_t n) { ActMath<VScalar>::apply_array(act, x, n); }

}  // namespace fc

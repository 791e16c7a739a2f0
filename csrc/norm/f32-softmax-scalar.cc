// Softmax and log-softmax, scalar: softmax-math.h over VScalar.
#include "norm/norm-kernels.h"
#include "norm/softmax-math.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_softmax__scalar(const float* x, float* y, size_t len, size_t inner, bool log) {
  Softmax<VScalar>::slice(x, y, len, inner, log);
}

}  // namespace fc

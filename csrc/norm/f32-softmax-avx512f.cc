// Softmax and log-softmax, avx512f: softmax-math.h over VAvx512.
#include "norm/norm-kernels.h"
#include "norm/softmax-math.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_softmax__avx512f(const float* x, float* y, size_t len, size_t inner, bool log) {
  Softmax<VAvx512>::slice(x, y, len, inner, log);
}

}  // namespace fc

// Softmax and log-softmax, avx2: softmax-math.h over VAvx2.
#include "norm/norm-kernels.h"
#include "norm/softmax-math.h"
#include "simd/v-avx2.h"

namespace fc {

void f32_softmax__avx2(const float* x, float* y, size_t len, size_t inner, bool log) {
  Softmax<VAvx2>::slice(x, y, len, inner, log);
}

}  // namespace fc

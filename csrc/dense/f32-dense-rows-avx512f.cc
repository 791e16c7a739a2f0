// Small-batch dense rows, avx512f: dense-rows.h over VAvx512.
#include "dense/dense-kernels.h"
#include "dense/dense-rows.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_dense_rows__avx512f(const DenseRowsArgs& a) { DenseRows<VAvx512>::run(a); }

}  // namespace fc

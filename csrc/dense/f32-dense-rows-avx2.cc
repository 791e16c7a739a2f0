// Small-batch dense rows, avx2: dense-rows.h over VAvx2.
#include "dense/dense-kernels.h"
#include "dense/dense-rows.h"
#include "simd/v-avx2.h"

namespace fc {

void f32_dense_rows__avx2(const DenseRowsArgs& a) { DenseRows<VAvx2>::run(a); }

}  // namespace fc

// Small-batch dense rows, scalar: dense-rows.h over VScalar.
#include "dense/dense-kernels.h"
#include "dense/dense-rows.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_dense_rows__scalar(const DenseRowsArgs& a) { DenseRows<VScalar>::run(a); }

}  // namespace fc

// NCHW <-> blocked copies, scalar: reorder-block.h with VScalar.
#include "conv/reorder-block.h"
#include "simd/v-scalar.h"

namespace fc {

const ReorderKernels& f32_reorder_kernels__scalar() {
  static const ReorderKernels k = reorder_table<VScalar>();
  return k;
}

}  // namespace fc

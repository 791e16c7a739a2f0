// NCHW <-> blocked copies, avx2: reorder-block.h with VAvx2.
#include "conv/reorder-block.h"
#include "simd/v-avx2.h"

namespace fc {

const ReorderKernels& f32_reorder_kernels__avx2() {
  static const ReorderKernels k = reorder_table<VAvx2>();
  return k;
}

}  // namespace fc

// NCHW <-> blocked copies, avx512f: reorder-block.h with VAvx512.
#include "conv/reorder-block.h"
#include "simd/v-avx512f.h"

namespace fc {

const ReorderKernels& f32_reorder_kernels__avx512f() {
  static const ReorderKernels k = reorder_table<VAvx512>();
  return k;
}

}  // namespace fc

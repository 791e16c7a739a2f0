// Blocked direct-convolution tiles, avx512f: convc-tile.h with VAvx512 (one vector per block;
// 32 registers: 4 blocks x 6 positions, 2 x 12, 3 x 8, 1 x 14 accumulators).
#include "conv/convc-tile.h"
#include "simd/v-avx512f.h"

namespace fc {

const ConvcKernels& f32_convc_kernels__avx512f() {
  static const ConvcKernels k = convc_table<VAvx512, 14, 12, 8, 6>(2);
  return k;
}

}  // namespace fc

// Blocked direct-convolution tiles, avx2: convc-tile.h with VAvx2 (two vectors per block;
// 16 registers: 1 block x 6 positions, 2 blocks x 2).
#include "conv/convc-tile.h"
#include "simd/v-avx2.h"

namespace fc {

const ConvcKernels& f32_convc_kernels__avx2() {
  static const ConvcKernels k = convc_table<VAvx2, 6, 2, 1, 1>(1);
  return k;
}

}  // namespace fc

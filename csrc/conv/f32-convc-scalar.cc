// Blocked direct-convolution tiles, portable: convc-tile.h with VScalar (four 4-lane vectors
// per block; a few positions, one block).
#include "conv/convc-tile.h"
#include "simd/v-scalar.h"

namespace fc {

const ConvcKernels& f32_convc_kernels__scalar() {
  static const ConvcKernels k = convc_table<VScalar, 4, 2, 1, 1>(1);
  return k;
}

}  // namespace fc

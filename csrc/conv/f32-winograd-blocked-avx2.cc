// Blocked Winograd transforms, avx2: winograd-blocked-tile.h with VAvx2.
#include "conv/winograd-blocked-tile.h"
#include "simd/v-avx2.h"

namespace fc {

const WinoBlockedKernels& f32_winograd_blocked_kernels__avx2() {
  static const WinoBlockedKernels k = wino_blocked_table<VAvx2>();
  return k;
}

}  // namespace fc

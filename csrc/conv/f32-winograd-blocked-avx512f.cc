// Blocked Winograd transforms, avx512f: winograd-blocked-tile.h with VAvx512.
#include "conv/winograd-blocked-tile.h"
#include "simd/v-avx512f.h"

namespace fc {

const WinoBlockedKernels& f32_winograd_blocked_kernels__avx512f() {
  static const WinoBlockedKernels k = wino_blocked_table<VAvx512>();
  return k;
}

}  // namespace fc

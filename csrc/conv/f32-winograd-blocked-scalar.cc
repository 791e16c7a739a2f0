// Blocked Winograd transforms, scalar: winograd-blocked-tile.h with VScalar.
#include "conv/winograd-blocked-tile.h"
#include "simd/v-scalar.h"

namespace fc {

const WinoBlockedKernels& f32_winograd_blocked_kernels__scalar() {
  static const WinoBlockedKernels k = wino_blocked_table<VScalar>();
  return k;
}

}  // namespace fc

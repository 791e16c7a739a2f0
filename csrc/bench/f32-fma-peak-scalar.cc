// Peak FMA probe, scalar: fma-peak.h instantiated with VScalar.
#include "bench/fma-peak.h"
#include "simd/v-scalar.h"

namespace fc {

uint64_t f32_fma_peak__scalar(size_t iters, float* sink) { return fma_peak<VScalar>(iters, sink); }

}  // namespace fc

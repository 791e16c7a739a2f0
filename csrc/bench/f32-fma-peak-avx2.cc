// Peak FMA probe, avx2: fma-peak.h instantiated with VAvx2.
#include "bench/fma-peak.h"
#include "simd/v-avx2.h"

namespace fc {

uint64_t f32_fma_peak__avx2(size_t iters, float* sink) { return fma_peak<VAvx2>(iters, sink); }

}  // namespace fc

// Peak FMA probe, avx512f: fma-peak.h instantiated with VAvx512.
#include "bench/fma-peak.h"
#include "simd/v-avx512f.h"

namespace fc {

uint64_t f32_fma_peak__avx512f(size_t iters, float* sink) { return fma_peak<VAvx512>(iters, sink); }

}  // namespace fc

// LRN, avx2: lrn-math.h over VAvx2 plus the exponent/mantissa split from the float's bits.
#include "norm/lrn-math.h"
#include "norm/norm-kernels.h"
#include "simd/v-avx2.h"

namespace fc {
namespace {

struct VLog : VAvx2 {
  static inline reg exponent(reg x) {
    const __m256i e = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(e, _mm256_set1_epi32(127)));
  }
  static inline reg mantissa(reg x) {
    const __m256i m = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x007fffff));
    return _mm256_castsi256_ps(_mm256_or_si256(m, _mm256_set1_epi32(0x3f800000)));
  }
};

}  // namespace

void f32_lrn__avx2(const LrnArgs& a) { Lrn<VLog>::run(a); }
void f32_lrn_blocked__avx2(const LrnBlockedArgs& a) { Lrn<VLog>::run_blocked(a); }

}  // namespace fc

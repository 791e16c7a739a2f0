// LRN, avx512f: lrn-math.h over VAvx512 plus the exponent/mantissa split (getexp/getmant).
#include "norm/lrn-math.h"
#include "norm/norm-kernels.h"
#include "simd/v-avx512f.h"

namespace fc {
namespace {

struct VLog : VAvx512 {
  static inline reg exponent(reg x) { return _mm512_getexp_ps(x); }
  static inline reg mantissa(reg x) { return _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero); }
};

}  // namespace

void f32_lrn__avx512f(const LrnArgs& a) { Lrn<VLog>::run(a); }
void f32_lrn_blocked__avx512f(const LrnBlockedArgs& a) { Lrn<VLog>::run_blocked(a); }

}  // namespace fc

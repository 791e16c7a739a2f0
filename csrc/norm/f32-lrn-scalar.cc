// LRN, scalar: lrn-math.h over VScalar plus the exponent/mantissa split from the float's bits.
#include <cstring>

#include "norm/lrn-math.h"
#include "norm/norm-kernels.h"
#include "simd/v-scalar.h"

namespace fc {
namespace {

struct VLog : VScalar {
  static inline ireg bits(reg x) {
    ireg b;
    std::memcpy(&b, &x, sizeof b);
    return b;
  }
  static inline reg exponent(reg x) { return __builtin_convertvector((bits(x) >> 23) - 127, reg); }
  static inline reg mantissa(reg x) {
    const ireg m = (bits(x) & 0x007fffff) | 0x3f800000;
    reg r;
    std::memcpy(&r, &m, sizeof r);
    return r;
  }
};

}  // namespace

void f32_lrn__scalar(const LrnArgs& a) { Lrn<VLog>::run(a); }
void f32_lrn_blocked__scalar(const LrnBlockedArgs& a) { Lrn<VLog>::run_blocked(a); }

}  // namespace fc

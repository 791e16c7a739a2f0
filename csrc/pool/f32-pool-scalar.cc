// Pooling, scalar: the shared templates of pool-plane.h over VScalar plus its stride-2 deinterleave.
#include "pool/pool-kernels.h"
#include "pool/pool-plane.h"
#include "simd/v-scalar.h"

namespace fc {
namespace {

struct VPool : VScalar {
  static inline void deinterleave(const float* p, reg& even, reg& odd) {
    const reg lo = load(p), hi = load(p + W);
    even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
    odd = __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
  }
};

}  // namespace

void f32_maxpool_plane__scalar(const PoolParams& p, const PoolPlaneArgs& a) { maxpool_plane<VPool>(p, a); }
void f32_avgpool_plane__scalar(const PoolParams& p, const PoolPlaneArgs& a) { avgpool_plane<VPool>(p, a); }
float f32_rsum__scalar(const float* x, size_t n) { return reduce<VPool, SumOp<VPool>>(x, n); }
float f32_rmax__scalar(const float* x, size_t n) { return reduce<VPool, MaxOp<VPool>>(x, n); }

}  // namespace fc

// Pooling, scalar: the shared templates of pool-plane.h over VScalar.
#include "pool/pool-kernels.h"
#include "pool/pool-blocked.h"
#include "pool/pool-plane.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_maxpool_blocked_row__scalar(const PoolParams& p, const PoolBlockedRow& a) {
  pool_blocked_row<VScalar, false>(p, a);
}
void f32_avgpool_blocked_row__scalar(const PoolParams& p, const PoolBlockedRow& a) {
  pool_blocked_row<VScalar, true>(p, a);
}
void f32_maxpool_plane__scalar(const PoolParams& p, const PoolPlaneArgs& a) { maxpool_plane<VScalar>(p, a); }
void f32_avgpool_plane__scalar(const PoolParams& p, const PoolPlaneArgs& a) { avgpool_plane<VScalar>(p, a); }
float f32_rsum__scalar(const float* x, size_t n) { return reduce<VScalar, SumOp<VScalar>>(x, n); }
float f32_rmax__scalar(const float* x, size_t n) { return reduce<VScalar, MaxOp<VScalar>>(x, n); }

}  // namespace fc

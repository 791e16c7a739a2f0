// Pooling, avx2: the shared templates of pool-plane.h over VAvx2.
#include "pool/pool-kernels.h"
#include "pool/pool-blocked.h"
#include "pool/pool-plane.h"
#include "simd/v-avx2.h"

namespace fc {

void f32_maxpool_blocked_row__avx2(const PoolParams& p, const PoolBlockedRow& a) {
  pool_blocked_row<VAvx2, false>(p, a);
}
void f32_avgpool_blocked_row__avx2(const PoolParams& p, const PoolBlockedRow& a) {
  pool_blocked_row<VAvx2, true>(p, a);
}
void f32_maxpool_plane__avx2(const PoolParams& p, const PoolPlaneArgs& a) { maxpool_plane<VAvx2>(p, a); }
void f32_avgpool_plane__avx2(const PoolParams& p, const PoolPlaneArgs& a) { avgpool_plane<VAvx2>(p, a); }
float f32_rsum__avx2(const float* x, size_t n) { return reduce<VAvx2, SumOp<VAvx2>>(x, n); }
float f32_rmax__avx2(const float* x, size_t n) { return reduce<VAvx2, MaxOp<VAvx2>>(x, n); }

}  // namespace fc

// Pooling, avx512f: the shared templates of pool-plane.h over VAvx512.
#include "pool/pool-kernels.h"
#include "pool/pool-blocked.h"
#include "pool/pool-plane.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_maxpool_blocked_row__avx512f(const PoolParams& p, const PoolBlockedRow& a) {
  pool_blocked_row<VAvx512, false>(p, a);
}
void f32_avgpool_blocked_row__avx512f(const PoolParams& p, const PoolBlockedRow& a) {
  pool_blocked_row<VAvx512, true>(p, a);
}
void f32_maxpool_plane__avx512f(const PoolParams& p, const PoolPlaneArgs& a) { maxpool_plane<VAvx512>(p, a); }
void f32_avgpool_plane__avx512f(const PoolParams& p, const PoolPlaneArgs& a) { avgpool_plane<VAvx512>(p, a); }
float f32_rsum__avx512f(const float* x, size_t n) { return reduce<VAvx512, SumOp<VAvx512>>(x, n); }
float f32_rmax__avx512f(const float* x, size_t n) { return reduce<VAvx512, MaxOp<VAvx512>>(x, n); }

}  // namespace fc

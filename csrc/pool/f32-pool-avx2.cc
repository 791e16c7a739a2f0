// Pooling, avx2: the shared templates of pool-plane.h over VAvx2 plus its stride-2 deinterleave.
#include "pool/pool-kernels.h"
#include "pool/pool-plane.h"
#include "simd/v-avx2.h"

namespace fc {
namespace {

struct VPool : VAvx2 {
  // even = p[0], p[2], ..., p[14]; odd = p[1], ..., p[15] (shuffle within lanes, then fix the lane order).
  static inline void deinterleave(const float* p, reg& even, reg& odd) {
    const reg lo = load(p), hi = load(p + W);
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
  }
};

}  // namespace

void f32_maxpool_plane__avx2(const PoolParams& p, const PoolPlaneArgs& a) { maxpool_plane<VPool>(p, a); }
void f32_avgpool_plane__avx2(const PoolParams& p, const PoolPlaneArgs& a) { avgpool_plane<VPool>(p, a); }
float f32_rsum__avx2(const float* x, size_t n) { return reduce<VPool, SumOp<VPool>>(x, n); }
float f32_rmax__avx2(const float* x, size_t n) { return reduce<VPool, MaxOp<VPool>>(x, n); }

}  // namespace fc

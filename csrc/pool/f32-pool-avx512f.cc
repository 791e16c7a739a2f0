// Pooling, avx512f: the shared templates of pool-plane.h over VAvx512 plus its stride-2 deinterleave.
#include "pool/pool-kernels.h"
#include "pool/pool-plane.h"
#include "simd/v-avx512f.h"

namespace fc {
namespace {

struct VPool : VAvx512 {
  // even = p[0], p[2], ..., p[30]; odd = p[1], ..., p[31].
  static inline void deinterleave(const float* p, reg& even, reg& odd) {
    const reg lo = load(p), hi = load(p + W);
    even = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), hi);
    odd = _mm512_permutex2var_ps(lo, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), hi);
  }
};

}  // namespace

void f32_maxpool_plane__avx512f(const PoolParams& p, const PoolPlaneArgs& a) { maxpool_plane<VPool>(p, a); }
void f32_avgpool_plane__avx512f(const PoolParams& p, const PoolPlaneArgs& a) { avgpool_plane<VPool>(p, a); }
float f32_rsum__avx512f(const float* x, size_t n) { return reduce<VPool, SumOp<VPool>>(x, n); }
float f32_rmax__avx512f(const float* x, size_t n) { return reduce<VPool, MaxOp<VPool>>(x, n); }

}  // namespace fc

// f32 GEMM micro-kernels (packed, implicit B and implicit A) and the A- and B-panel packers, 6x16 tile, avx2: gemm-tile.h instantiated with VAvx2.
#include "gemm/gemm-tile.h"
#include "simd/v-avx2.h"

namespace fc {

// The config runs A tiles outer (gemm-config.cc): B panels stream from L2, one 64-byte row
// per k step, asked for 8 steps ahead (64 x 3136 x 576 on Zen 3: 29 -> 57 GFLOP/s, 1024^3
// 68 -> 75; 16 ahead no better).
constexpr int kBAhead = 8;

void f32_gemm_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c,
                               ptrdiff_t ldc, const GemmTileParams* params) {
  gemm_tile<VAvx2, 6, 2, kBAhead>(m, n, kc, a, b, c, ldc, params);
}

void f32_igemm_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float* a, const float* b, const ptrdiff_t* boff,
                                  float* c, ptrdiff_t ldc, const GemmTileParams* params) {
  igemm_tile<VAvx2, 6, 2>(m, n, kc, a, b, boff, c, ldc, params);
}

void f32_igemm_a_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float* const* a, const ptrdiff_t* aoff,
                                    const float* b, float* c, ptrdiff_t ldc, const GemmTileParams* params) {
  igemm_a_tile<VAvx2, 6, 2, kBAhead>(m, n, kc, a, aoff, b, c, ldc, params);
}

void f32_pack_a_rows_6__avx2(const float* a, size_t lda, size_t m, size_t kc, float* dst) {
  pack_a_rows<VAvx2, 6>(a, lda, m, kc, dst);
}

void f32_pack_b_rows_16__avx2(const float* b, size_t ldb, size_t n, size_t kc, float* dst) {
  pack_b_rows<VAvx2, 2>(b, ldb, n, kc, dst);
}

}  // namespace fc

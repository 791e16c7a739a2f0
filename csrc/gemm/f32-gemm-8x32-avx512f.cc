// f32 GEMM micro-kernels (packed, implicit B and implicit A) and the A- and B-panel packers, 8x32 tile, avx512f: gemm-tile.h instantiated with VAvx512.
#include "gemm/gemm-tile.h"
#include "simd/v-avx512f.h"

static_assert(has_transpose_8x16<VAvx512>::value, "transposed tiles should use the in-register transpose");

namespace fc {

void f32_gemm_ukernel_8x32__avx512f(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c,
                                  ptrdiff_t ldc, const GemmTileParams* params) {
  gemm_tile<VAvx512, 8, 2>(m, n, kc, a, b, c, ldc, params);
}

void f32_igemm_ukernel_8x32__avx512f(size_t m, size_t n, size_t kc, const float* a, const float* b, const ptrdiff_t* boff,
                                     float* c, ptrdiff_t ldc, const GemmTileParams* params) {
  igemm_tile<VAvx512, 8, 2>(m, n, kc, a, b, boff, c, ldc, params);
}

void f32_igemm_a_ukernel_8x32__avx512f(size_t m, size_t n, size_t kc, const float* const* a, const ptrdiff_t* aoff,
                                       const float* b, float* c, ptrdiff_t ldc, const GemmTileParams* params) {
  igemm_a_tile<VAvx512, 8, 2>(m, n, kc, a, aoff, b, c, ldc, params);
}

void f32_pack_a_rows_8__avx512f(const float* a, size_t lda, size_t m, size_t kc, float* dst) {
  pack_a_rows<VAvx512, 8>(a, lda, m, kc, dst);
}

void f32_pack_b_rows_32__avx512f(const float* b, size_t ldb, size_t n, size_t kc, float* dst) {
  pack_b_rows<VAvx512, 2>(b, ldb, n, kc, dst);
}

}  // namespace fc

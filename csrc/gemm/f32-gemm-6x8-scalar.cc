// f32 GEMM micro-kernels (packed, implicit B and implicit A) and the A- and B-panel packers, 6x8 tile, scalar: gemm-tile.h instantiated with VScalar.
#include "gemm/gemm-tile.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_gemm_ukernel_6x8__scalar(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c,
                                ptrdiff_t ldc, const GemmTileParams* params) {
  gemm_tile<VScalar, 6, 2>(m, n, kc, a, b, c, ldc, params);
}

void f32_igemm_ukernel_6x8__scalar(size_t m, size_t n, size_t kc, const float* a, const float* b, const ptrdiff_t* boff,
                                   float* c, ptrdiff_t ldc, const GemmTileParams* params) {
  igemm_tile<VScalar, 6, 2>(m, n, kc, a, b, boff, c, ldc, params);
}

void f32_igemm_a_ukernel_6x8__scalar(size_t m, size_t n, size_t kc, const float* const* a, const ptrdiff_t* aoff,
                                     const float* b, float* c, ptrdiff_t ldc, const GemmTileParams* params) {
  igemm_a_tile<VScalar, 6, 2>(m, n, kc, a, aoff, b, c, ldc, params);
}

void f32_pack_a_rows_6__scalar(const float* a, size_t lda, size_t m, size_t kc, float* dst) {
  pack_a_rows<VScalar, 6>(a, lda, m, kc, dst);
}

void f32_pack_b_rows_8__scalar(const float* b, size_t ldb, size_t n, size_t kc, float* dst) {
  pack_b_rows<VScalar, 2>(b, ldb, n, kc, dst);
}

}  // namespace fc

// f32 GEMM micro-kernels (packed and implicit A) and the A-panel packer, 7x32 tile, avx512f: gemm-tile.h
// instantiated with VAvx512. The rows variant of the 8x32 tile (gemm-config.cc): same B panels, for
// products whose rows pad fewer as 7-row tiles (the 49 positions of a 7x7 output).
#include "gemm/gemm-tile.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_gemm_ukernel_7x32__avx512f(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c,
                                    ptrdiff_t ldc, const GemmTileParams* params) {
  gemm_tile<VAvx512, 7, 2>(m, n, kc, a, b, c, ldc, params);
}

void f32_igemm_a_ukernel_7x32__avx512f(size_t m, size_t n, size_t kc, const float* const* a, const ptrdiff_t* aoff,
                                       const float* b, float* c, ptrdiff_t ldc, const GemmTileParams* params) {
  igemm_a_tile<VAvx512, 7, 2>(m, n, kc, a, aoff, b, c, ldc, params);
}

void f32_pack_a_rows_7__avx512f(const float* a, size_t lda, size_t m, size_t kc, float* dst) {
  pack_a_rows<VAvx512, 7>(a, lda, m, kc, dst);
}

}  // namespace fc

#include "gemm/gemm-config.h"

namespace fc {

// Columns: isa, kernel name, packed, implicit-B and implicit-A kernels, MR, NR, KC, MC, NC (narrow-M rows and NC).
// KC x NR x 4 bytes of B fit L1 (32 KiB on Zen 4, 48 KiB on Sapphire Rapids);
// MC x KC x 4 of A fits a quarter of L2 (1-2 MiB); NC x KC x 4 of B fits L2/L3.
static const GemmConfig kConfigs[kIsaCount] = {
    {Isa::generic, "f32-gemm-6x8-scalar", f32_gemm_ukernel_6x8__scalar, f32_igemm_ukernel_6x8__scalar,
     f32_igemm_a_ukernel_6x8__scalar, 6, 8, 256, 96, 2048},
#if defined(FASTCONV_NO_X86_KERNELS)
    {Isa::avx2, "f32-gemm-6x8-scalar", f32_gemm_ukernel_6x8__scalar, f32_igemm_ukernel_6x8__scalar,
     f32_igemm_a_ukernel_6x8__scalar, 6, 8, 256, 96, 2048},
    {Isa::avx512, "f32-gemm-6x8-scalar", f32_gemm_ukernel_6x8__scalar, f32_igemm_ukernel_6x8__scalar,
     f32_igemm_a_ukernel_6x8__scalar, 6, 8, 256, 96, 2048},
#else
    {Isa::avx2, "f32-gemm-6x16-avx2", f32_gemm_ukernel_6x16__avx2, f32_igemm_ukernel_6x16__avx2,
     f32_igemm_a_ukernel_6x16__avx2, 6, 16, 256, 120, 3072, 512, 512},
    // 8x32 rather than 14x32: Zen 4 retires one 512-bit FMA per cycle, so 16 accumulators
    // already saturate it, and MR = 8 divides the channel counts of CNN layers (64 rows as
    // 14x32 tiles compute 70: 9% wasted). Measured 0.78 -> 0.92x numpy on 64x3136x576.
    // KC 512 / MC 128 (measured, 1 thread, CPU time): 1024^3 and 2048^3 at 0.98-1.03x numpy
    // against 0.90-0.94x with 256 / 256; fewer passes over C, and the A block (256 KiB)
    // plus a streaming B panel sit in L2. NC 512 for M <= 512 (conv layers of 64-512
    // channels): 8-12% faster on layers with M = 64-96; square GEMMs keep 3072.
    {Isa::avx512, "f32-gemm-8x32-avx512f", f32_gemm_ukernel_8x32__avx512f, f32_igemm_ukernel_8x32__avx512f,
     f32_igemm_a_ukernel_8x32__avx512f, 8, 32, 512, 128, 3072, 512, 512},
#endif
};

const GemmConfig& gemm_config(Isa isa) { return kConfigs[static_cast<int>(isa)]; }

}  // namespace fc

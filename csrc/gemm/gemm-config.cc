#include "gemm/gemm-config.h"

#include <algorithm>

namespace fc {

// Columns: isa, kernel name, packed, implicit-B and implicit-A kernels, A- and B-panel packers, MR, NR, KC, MC, NC
// (narrow-M rows and NC), the order of the two innermost loops.
// KC is the deepest k block (gemm_block_k splits a depth into equal blocks of at most KC);
// MC x NR x 4 bytes of C tiles and the streamed panels stay in L1/L2; NC x KC x 4 of B fits L3.
#if !defined(FASTCONV_NO_X86_KERNELS)
// 8x32 rather than 14x32: Zen 4 retires one 512-bit FMA per cycle, so 16 accumulators
// already saturate it, and MR = 8 divides the channel counts of CNN layers (64 rows as
// 14x32 tiles compute 70: 9% wasted). Measured 0.78 -> 0.92x numpy on 64x3136x576.
// KC 4096: on Zen 5 (two 512-bit FMAs a cycle) each extra k block's pass over C costs
// more than streaming deeper panels from L2: in one process, interleaved, 1 thread,
// against KC 512: 1024^3 and 4096^3 1.08-1.11x, the transposed implicit convolution
// 1.10-1.15x on 3x3 layers of 256-512 channels (its C tiles are stored transposed),
// 1x1 2048->512 at 7x7 1.18x, 3x3 28x28 512->512 1.08x (bench/RESULTS.md). MC 128.
// NC 1024 keeps the packed B block (NC x KC x 4 = 16 MiB at most) within L3; NC 512
// for M <= 512 (conv layers of 64-512 channels): 8-12% faster on layers with M = 64-96.
constexpr GemmConfig kAvx512 = {
    Isa::avx512, "f32-gemm-8x32-avx512f", f32_gemm_ukernel_8x32__avx512f, f32_igemm_ukernel_8x32__avx512f,
    f32_igemm_a_ukernel_8x32__avx512f, f32_pack_a_rows_8__avx512f, f32_pack_b_rows_32__avx512f, 8, 32, 4096, 128, 1024,
    512, 512};

// A rows variant of `base`: its own tile height, kernels and A packer; every B-side field (NR, KC,
// NC, the B packer) and the loop order are base's, so a B packed for one serves both. No
// implicit-B kernel: the driver takes a variant only for an A packed per call, never with an
// implicit B (whose A is a plan's packed weights).
constexpr GemmConfig rows_variant_of(GemmConfig base, const char* name, gemm_ukernel_fn ukernel,
                                     igemm_a_ukernel_fn igemm_a_ukernel, pack_a_rows_fn pack_a_rows, size_t mr,
                                     size_t mc) {
  base.ukernel_name = name;
  base.ukernel = ukernel;
  base.igemm_ukernel = nullptr;
  base.igemm_a_ukernel = igemm_a_ukernel;
  base.pack_a_rows = pack_a_rows;
  base.mr = mr;
  base.mc = mc;
  return base;
}

// The 8x32 tile's rows variant: the same FMA rate (one process, hot: 268 GFLOP/s either
// way), taken where it pads fewer rows (gemm_config_for_rows: 49 output positions of a 7x7
// layer as seven tiles; 196 and 3136 stay on 8 rows, whose edge tiles cost as much).
constexpr GemmConfig kAvx512Rows7 = rows_variant_of(kAvx512, "f32-gemm-7x32-avx512f", f32_gemm_ukernel_7x32__avx512f,
                                                    f32_igemm_a_ukernel_7x32__avx512f, f32_pack_a_rows_7__avx512f, 7, 112);

constexpr GemmConfig with_rows_variant(GemmConfig base, const GemmConfig* variant) {
  base.rows_variant = variant;
  return base;
}
#endif

static const GemmConfig kConfigs[kIsaCount] = {
    {Isa::generic, "f32-gemm-6x8-scalar", f32_gemm_ukernel_6x8__scalar, f32_igemm_ukernel_6x8__scalar,
     f32_igemm_a_ukernel_6x8__scalar, f32_pack_a_rows_6__scalar, f32_pack_b_rows_8__scalar, 6, 8, 256, 96, 2048},
#if defined(FASTCONV_NO_X86_KERNELS)
    {Isa::avx2, "f32-gemm-6x8-scalar", f32_gemm_ukernel_6x8__scalar, f32_igemm_ukernel_6x8__scalar,
     f32_igemm_a_ukernel_6x8__scalar, f32_pack_a_rows_6__scalar, f32_pack_b_rows_8__scalar, 6, 8, 256, 96, 2048},
    {Isa::avx512, "f32-gemm-6x8-scalar", f32_gemm_ukernel_6x8__scalar, f32_igemm_ukernel_6x8__scalar,
     f32_igemm_a_ukernel_6x8__scalar, f32_pack_a_rows_6__scalar, f32_pack_b_rows_8__scalar, 6, 8, 256, 96, 2048},
#else
    // Rows outer (each A tile walks the NC block's B panels, so C is written row by row, in the
    // order the hardware prefetchers follow) with the B block's KC x NC x 4 = 1 MiB in L2/L3:
    // on Zen 3, in one process against columns outer with KC 256 / NC 3072, ResNet-50 1.05-1.27x,
    // SqueezeNet 1.23x; GEMMs 1024^3 1.2x, 64x3136x576 1.4x, 2048x49x512 2x (bench/RESULTS.md).
    {Isa::avx2, "f32-gemm-6x16-avx2", f32_gemm_ukernel_6x16__avx2, f32_igemm_ukernel_6x16__avx2,
     f32_igemm_a_ukernel_6x16__avx2, f32_pack_a_rows_6__avx2, f32_pack_b_rows_16__avx2, 6, 16, 512, 120, 512, 0, 0,
     GemmLoopOrder::rows_outer},
    with_rows_variant(kAvx512, &kAvx512Rows7),
#endif
};

const GemmConfig& gemm_config(Isa isa) { return kConfigs[static_cast<int>(isa)]; }

double gemm_padded_rows(size_t m, const GemmConfig& cfg) {
  const size_t tail = m % cfg.mr;
  if (tail == 0) return static_cast<double>(m);
  size_t edge = cfg.mr;  // the tile the kernel runs the tail on: MR halved while the half holds it
  while (edge / 2 >= tail) edge /= 2;
  return static_cast<double>(m - tail + std::max<size_t>(edge, std::min<size_t>(4, cfg.mr)));
}

const GemmConfig& gemm_config_for_rows(const GemmConfig& cfg, size_t m) {
  const GemmConfig* v = cfg.rows_variant;
  return v && gemm_padded_rows(m, *v) < gemm_padded_rows(m, cfg) ? *v : cfg;
}

}  // namespace fc

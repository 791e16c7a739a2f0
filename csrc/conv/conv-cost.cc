// The cost model behind algo="auto": modelled run time of each algorithm on a layer,
// linear in a few work counts with coefficients fitted to this engine's measured times
// (bench/fit_cost_model.py measures, fits, and prints the constants below; the data is
// bench/cost_model_data.csv). Only the ranking between algorithms matters.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "conv/conv-nchwc.h"
#include "conv/conv-registry.h"
#include "conv/convc-kernels.h"
#include "conv/implicit-geometry.h"
#include "gemm/gemm-config.h"

namespace fc {
namespace {

// Fitted coefficients, one row per ISA level (bench/fit_cost_model.py --isa prints a row):
// seconds per unit of each work count (the terms are listed in conv-registry.h).
//   im2col: the GEMM's flops (M and N padded as the tiles run), elements of the im2col
//     matrix packed, a call.
//   implicit: its flops (widened columns included), its tiles (the wrapped store, one offset
//     per k step, the start of a tile's scattered rows), the padded input's elements (the
//     copy; at stride 2 also the cost of a k block's rows spread over four phase planes), a call.
//   implicit_t (transposed implicit): its flops (rows padded to MR), tiles per k block (each
//     stores transposed, a read-modify-write of C from the second block on), the
//     channels-last copy's elements, a call.
//   Winograd, per variant F(2x2), F(3x3), F(4x4), F(6x6): GEMM flops (padded), transform
//     arithmetic (alpha^3 per tile and input / output channel); per GEMM call (alpha^2 per
//     block); GEMM flops of blocks of <= 16 tiles, which run the AVX2 kernel on AVX-512 CPUs
//     (half-width vectors) at a rate of their own.
//   direct: its flops (output channels padded to whole blocks), its tiles' k steps (each
//     loads the tile's weights whatever its width: rows of 7 or 14 run at 60-85% of the rate
//     of wide ones), the elements copied (a padded layer's padded input, the output from
//     blocked to NCHW), a call. Fitted for avx512 only: on the other levels, and at strides
//     past the kernel's multi-position tiles (4), auto does not pick it (zeros: "not measured").
using CostRow = std::array<double, kCostTermCount>;
// avx512: Zen 5, one thread, KC 4096; 3x3 layers at stride 1 and, for the GEMM paths, 3x3
// and 1x1 layers at stride 2, the ResNet and AlexNet stems, and 1x1 stride-1 layers for the
// pointwise products and direct (direct: not on the strided 1x1 ones; re-measured after its
// equal-width tiles and its stride-3/4 tiles); two runs pooled; fit median relative error 8.7%;
// picks the measured-fastest path on 76 of 97 layers, the others within 33% (16 -> 16 at 224x224:
// direct modelled, implicit 1.12x faster: its copies fall out of L2 there).
constexpr CostRow kAvx512Costs = {
    5.218e-12, 1.733e-10, 4.602e-06,                                    // im2col (and pointwise)
    4.795e-12, 4.044e-08, 7.356e-10, 3.501e-06,                         // implicit
    4.534e-12, 1.461e-07, 1.653e-10, 2.313e-06,                         // implicit_t
    5.633e-12, 6.229e-12, 6.362e-12, 7.664e-12,                         // Winograd GEMM flops
    5.809e-11, 5.894e-11, 5.592e-11, 4.625e-11,                         // Winograd input transform
    6.111e-11, 6.128e-11, 5.052e-11, 4.526e-11,                         // Winograd output transform
    4.063e-07, 1.07e-11,                                                // per GEMM call, narrow blocks
    3.446e-12, 4.193e-10, 1.525e-10, 2.258e-06};                        // direct
// avx2: Zen 3, one thread, KC 512, A tiles outer; the same grid; fit median relative error
// 9.8%; picks the measured-fastest path on 62 of 85 layers, the others within 36% (the
// avx512 row here: 58, within 67%). No narrow Winograd blocks: this is the AVX2 kernel.
constexpr CostRow kAvx2Costs = {
    1.468e-11, 5.34e-10, 9.847e-06,                                     // im2col
    1.45e-11, 4.751e-08, 2.144e-09, 7.31e-06,                           // implicit
    1.345e-11, 1.969e-07, 9.236e-10, 5.059e-06,                         // implicit_t
    1.58e-11, 1.727e-11, 1.75e-11, 1.716e-11,                           // Winograd GEMM flops
    1.153e-10, 1.289e-10, 1.366e-10, 1.582e-10,                         // Winograd input transform
    1.784e-10, 1.57e-10, 1.304e-10, 1.21e-10,                           // Winograd output transform
    7.715e-07, 0,                                                       // per GEMM call, narrow blocks
    0, 0, 0, 0};                                                        // direct (not measured)

// The portable path has no fit of its own (it is the reference, not a fast path): it takes
// avx2's, whose tile it shares in shape (6 rows).
const CostRow& cost_row(Isa isa) {
  static const CostRow* const kRows[kIsaCount] = {&kAvx2Costs, &kAvx2Costs, &kAvx512Costs};
  return *kRows[static_cast<int>(isa)];
}

// The transposed product (im2col_t, pointwise_t) runs its padded flops this much slower:
// the weights are then the wide operand, streamed NR floats per k step instead of MR, and
// tiles are stored transposed (Zen 5, 1 thread, 1x1 layers 512->2048 7x7, 256->1024 14x14,
// 512->1000 13x13: 1.12-1.16). It wins where positions pad badly to NR columns (7x7).
constexpr double kTransposedSlowdown = 1.15;
// F(6x6) has ~3x the rounding error of F(4x4): pick it only when modelled this much faster.
constexpr double kWino6Margin = 0.10;

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

// Columns a product of n columns computes: whole NR panels, and an edge panel narrowed to
// whole vectors (NR/2: every kernel's tile is two vectors wide).
double padded_cols(size_t n, const GemmConfig& cfg) {
  return static_cast<double>(n / cfg.nr * cfg.nr + round_up(n % cfg.nr, cfg.nr / 2));
}

int wino_m(const std::string& algo) {
  if (algo == "winograd_2x2") return 2;
  if (algo == "winograd_3x3") return 3;
  if (algo == "winograd_4x4") return 4;
  if (algo == "winograd_6x6") return 6;
  return 0;
}

}  // namespace

std::string winograd_cannot_run(const ConvParams& p) {
  auto pair = [](size_t a, size_t b) { return std::to_string(a) + "x" + std::to_string(b); };
  std::string has;  // only what disqualifies the layer
  auto add = [&](const std::string& s) { has += (has.empty() ? "" : ", ") + s; };
  if (p.kernel_h != 3 || p.kernel_w != 3) add("kernel " + pair(p.kernel_h, p.kernel_w));
  if (p.stride_h != 1 || p.stride_w != 1) add("stride " + pair(p.stride_h, p.stride_w));
  if (p.dilation_h != 1 || p.dilation_w != 1) add("dilation " + pair(p.dilation_h, p.dilation_w));
  if (p.groups != 1) add("groups " + std::to_string(p.groups));
  return has.empty() ? has : "winograd needs a 3x3 kernel, stride 1, dilation 1 and groups 1; this layer has " + has;
}

double conv_cost(const std::string& algo, const ConvParams& p, size_t h, size_t w, Isa isa) {
  const GemmConfig& cfg = gemm_config(isa);
  const CostRow& coef = cost_row(isa);
  const double oh = static_cast<double>(p.out_h(h)), ow = static_cast<double>(p.out_w(w));
  const double k = static_cast<double>(p.out_channels);
  if (const int m = wino_m(algo)) {
    const double a = m + 2.0;
    const double tiles = std::ceil(oh / m) * std::ceil(ow / m);
    const double c = static_cast<double>(p.in_channels);
    // Blocks of <= 16 tiles run on the AVX2 kernel on AVX-512 CPUs (conv-winograd.cc, gemm_for).
    const GemmConfig& gc = isa == Isa::avx512 && tiles <= gemm_config(Isa::avx2).nr ? gemm_config(Isa::avx2) : cfg;
    const double t_padded = static_cast<double>(round_up(static_cast<size_t>(tiles), gc.nr));
    const double k_padded = static_cast<double>(round_up(p.out_channels, gc.mr));
    const int v = m == 6 ? 3 : m - 2;
    const double per_flop = &gc != &cfg ? coef[kWinoNarrowPerGemmFlop] : coef[kWino2PerGemmFlop + v];
    return per_flop * a * a * 2 * k_padded * t_padded * c + coef[kWino2PerInOp + v] * a * a * a * c * tiles +
           coef[kWino2PerOutOp + v] * a * a * a * k * tiles + coef[kWinoPerGemmCall] * a * a;
  }
  const double depth = static_cast<double>(p.gemm_depth()), groups = static_cast<double>(p.groups);
  if (algo == "direct") {
    // Not fitted for this ISA, or strides past the kernel's multi-position tiles (one position
    // a tile, several times slower): never auto's pick.
    if (coef[kDirectPerFlop] == 0 || p.stride_w > static_cast<size_t>(kConvcMaxStride))
      return std::numeric_limits<double>::infinity();
    const double flops = 2 * static_cast<double>(round_up(p.out_channels, 16)) * oh * ow * depth;
    const bool one_tap = p.kernel_h == 1 && p.kernel_w == 1;
    const bool padded = p.pad_top || p.pad_left || p.pad_bottom || p.pad_right;
    double copied = k * oh * ow;
    if (padded && !one_tap)
      copied += static_cast<double>(p.in_channels * (h + p.pad_top + p.pad_bottom) * (w + p.pad_left + p.pad_right));
    else if (one_tap && !padded && (p.stride_h > 1 || p.stride_w > 1))
      copied += static_cast<double>(p.in_channels) * oh * ow;
    // Tiles as BlockedConv runs them: rows of max_rp positions (1x1: one merged row), groups
    // of cb output blocks; each k step of a tile loads the cb weight vectors whatever its width.
    const ConvcKernels& kern = FC_KERNEL_FOR_ISA(isa, f32_convc_kernels)();
    const int few = blocked_direct_cb(p, h, w), cb = few ? few : kern.preferred_cb;
    const double rp = kern.max_rp[cb - 1];
    const double tiles = (one_tap ? std::ceil(oh * ow / rp) : oh * std::ceil(ow / rp)) *
                         std::ceil(static_cast<double>(blocked_channels(p.out_channels) / kChannelBlock) / cb);
    return coef[kDirectPerFlop] * flops +
           coef[kDirectPerTileStep] * tiles * depth + coef[kDirectPerElem] * copied + coef[kDirectPerCall];
  }
  if (algo == "implicit") {
    const ImplicitGeometry g(p, h, w);
    const double padded = gemm_padded_rows(p.group_out(), cfg) * padded_cols(g.columns(), cfg);
    const double elems = static_cast<double>(p.group_in() * g.planes_per_channel() * g.plane());
    const double flops = 2 * groups * padded * depth;
    const double tiles = groups * padded / static_cast<double>(cfg.mr * cfg.nr);
    return coef[kImplicitPerGemmFlop] * flops + coef[kImplicitPerTile] * tiles + coef[kImplicitPerElem] * elems * groups +
           coef[kImplicitPerCall] * groups;
  }
  if (algo == "implicit_t") {
    const size_t spatial = p.out_h(h) * p.out_w(w);
    const GemmConfig& rows_cfg = gemm_config_for_rows(cfg, spatial);  // positions as A's rows, read in place
    const double padded = gemm_padded_rows(spatial, rows_cfg) * padded_cols(p.group_out(), cfg);
    const ChannelsLastCopy copy(p, p.out_h(h), p.out_w(w));
    const double tiles = groups * padded / static_cast<double>(rows_cfg.mr * cfg.nr) * std::ceil(depth / cfg.kc);
    return coef[kImplicitTPerGemmFlop] * 2 * groups * padded * depth + coef[kImplicitTPerTile] * tiles +
           coef[kImplicitTPerElem] * static_cast<double>(copy.hp * copy.wp * p.in_channels) + coef[kImplicitTPerCall] * groups;
  }
  // im2col / pointwise: one GEMM per group over the whole image; "_t": the same product
  // transposed (positions as rows, channels as columns).
  const size_t spatial = p.out_h(h) * p.out_w(w);
  const bool transposed = algo == "im2col_t" || algo == "pointwise_t";
  const double padded = transposed
                            ? gemm_padded_rows(spatial, gemm_config_for_rows(cfg, spatial)) * padded_cols(p.group_out(), cfg)
                            : gemm_padded_rows(p.group_out(), cfg) * padded_cols(spatial, cfg);
  const double im2col = algo == "pointwise" || algo == "pointwise_t" ? 0.0 : depth * spatial * groups;
  const double gemm = coef[kIm2colPerGemmFlop] * 2 * groups * padded * depth * (transposed ? kTransposedSlowdown : 1.0);
  return gemm + coef[kIm2colPerElem] * im2col + coef[kIm2colPerCall] * groups;
}

std::vector<std::pair<std::string, double>> cost_coefficients(Isa isa) {
#define FC_COST_TERM_NAME(name) #name,
  static const char* const kNames[kCostTermCount] = {FC_COST_TERMS(FC_COST_TERM_NAME)};
#undef FC_COST_TERM_NAME
  std::vector<std::pair<std::string, double>> out;
  for (int t = 0; t < kCostTermCount; ++t) out.emplace_back(kNames[t], cost_row(isa)[t]);
  return out;
}

bool winograd_variant_accurate(const std::string& algo, const ConvParams& p) {
  // Measured relative L2 error on N(0,1) inputs and He-scaled weights grows ~ sqrt(C)
  // (bench/RESULTS.md, Winograd): F(6x6) 6.5e-6 at C = 512, so ~2e-5 at C = 4096, still
  // 5x inside the F(4x4) bound of 1e-4; beyond that it is not offered.
  return wino_m(algo) != 6 || p.in_channels <= 4096;
}

std::string choose_winograd_variant(const ConvParams& p, size_t h, size_t w, Isa isa) {
  std::string best;
  double best_cost = 0;
  for (const char* v : {"winograd_2x2", "winograd_3x3", "winograd_4x4", "winograd_6x6"}) {
    if (!winograd_variant_accurate(v, p)) continue;
    const double t = conv_cost(v, p, h, w, isa) * (wino_m(v) == 6 ? 1 + kWino6Margin : 1.0);
    if (best.empty() || t < best_cost) best = v, best_cost = t;
  }
  return best;
}

}  // namespace fc

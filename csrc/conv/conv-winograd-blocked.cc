// Winograd F(m x m, 3x3) on channel-blocked tensors. Per block of T tiles (each thread its
// own blocks, so V and M stay in its L2 and each core keeps the same part of the image layer
// after layer): the input transform writes V[xi] as T x C (a tile's channels contiguous, as
// the blocked input holds them); alpha^2 GEMMs M[xi] (T x K) = V[xi] * U[xi]^T, with U^T
// packed once as the B operand; the output transform writes blocked output vectors through
// the GEMM tile epilogue. The NCHW form (conv-winograd.cc) computes the transposed products.
#include <algorithm>
#include <vector>

#include "common/check.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "conv/conv-nchwc.h"
#include "conv/winograd-blocked.h"
#include "conv/winograd-filter.h"
#include "conv/winograd-transforms.h"
#include "gemm/gemm.h"

namespace fc {
namespace {

template <int M>
class BlockedWinograd final : public BlockedAlgorithm {
  static constexpr int A = WinogradMatrices<M>::kAlpha;
  static constexpr size_t B = kChannelBlock;

 public:
  explicit BlockedWinograd(const ConvLayer& l)
      : p_(l.p), cfg_(gemm_config(l.isa)), kernels_(&FC_KERNEL_FOR_ISA(l.isa, f32_winograd_blocked_kernels)()),
        ep_(l) {
    FC_CHECK(p_.kernel_h == 3 && p_.kernel_w == 3 && p_.stride_h == 1 && p_.stride_w == 1 && p_.dilation_h == 1 &&
                 p_.dilation_w == 1 && p_.groups == 1 && p_.in_channels % B == 0 && p_.out_channels % B == 0,
             "blocked Winograd needs a 3x3, stride-1, undilated, ungrouped layer with channel counts that are "
             "multiples of 16, got ", p_.describe());
    // U[xi] (K x C), each U[xi]^T packed as B (C x K).
    const size_t kk = p_.out_channels, c = p_.in_channels;
    const std::vector<float> u = winograd_filter_transform<M>(l.weight, kk, c);
    u_.reserve(A * A);
    for (int xi = 0; xi < A * A; ++xi)
      u_.emplace_back(cfg_, c, kk, StridedMatrix{u.data() + xi * kk * c, 1, static_cast<ptrdiff_t>(c)});
  }

  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    const size_t oh = p_.out_h(h), ow = p_.out_w(w);
    if (n == 0 || oh == 0 || ow == 0) return;
    const size_t th = (oh + M - 1) / M, tw = (ow + M - 1) / M, total = n * th * tw;
    const size_t nt = static_cast<size_t>(std::max(1, nthreads));
    // Blocks of tiles: V and M of a block within ~1 MiB (one core's L2), bounds on whole MR
    // panels, the same count for every thread (56x56 at F(4x4): 196 tiles as 48+48+48+52, where
    // blocks of 56, 3 x 56 + 28, left one core idle for a quarter of the layer).
    const size_t per_tile = static_cast<size_t>(A * A) * (p_.in_channels + p_.out_channels) * sizeof(float);
    const size_t mr = cfg_.mr;
    const size_t cap = std::clamp<size_t>((size_t{1} << 20) / per_tile / mr * mr, mr, kMaxTiles);
    // Few tiles (AlexNet's 12x12 layers: 9) split on tiles, not panels (8 + 1 left a core idle).
    const size_t grain = total >= 4 * nt * mr ? mr : 1;
    const EvenSplit split(total, (total + cap - 1) / cap, nt, grain);
    size_t tb = 0;  // the largest block: the scratch of every block
    for (size_t i = 0; i < split.tasks; ++i) tb = std::max(tb, split.begin(i + 1) - split.begin(i));
    const GemmTileParams epi = ep_.tile_params(residual != nullptr);
    const Geometry gm{x, h, w, y, y_image, residual, oh, ow, th, tw, &epi};
    parallel_for(split.tasks, static_cast<int>(nt), [&](size_t i) {
      const size_t t0 = split.begin(i), t1 = split.begin(i + 1);
      if (t1 > t0) block(gm, t0, t1 - t0, tb);
    });
  }

 private:
  struct Geometry {
    const float* x;
    size_t h, w;
    float* y;
    size_t y_image;
    const float* residual;
    size_t oh, ow, th, tw;
    const GemmTileParams* epi;
  };

  // Tiles [t0, t0 + cnt) over (image, tile row, tile), as runs within one tile row.
  void block(const Geometry& g, size_t t0, size_t cnt, size_t tb) const {
    const size_t c = p_.in_channels, kk = p_.out_channels;
    // A cache line between consecutive xi matrices: strides that are multiples of 4 KiB would
    // put all alpha^2 of them, which the transforms touch together, in one L1 set.
    const size_t vs = tb * c + 16, ms = tb * kk + 16;
    float* v = thread_scratch(kScratchOp0, A * A * vs);
    float* m = thread_scratch(kScratchOp1, A * A * ms);
    const size_t per_image = g.th * g.tw;
    for (size_t t = t0; t < t0 + cnt;) {  // input transform, run by run
      const size_t b = t / per_image, ty = t / g.tw % g.th, tx = t % g.tw;
      const size_t len = std::min(g.tw - tx, t0 + cnt - t), off = t - t0;
      for (size_t cb = 0; cb < c / B; ++cb) {
        WinoBlockedInput a;
        a.x = g.x + (b * c / B + cb) * g.h * g.w * B;
        a.h = g.h;
        a.w = g.w;
        a.iy0 = static_cast<ptrdiff_t>(ty * M) - static_cast<ptrdiff_t>(p_.pad_top);
        a.ix0 = static_cast<ptrdiff_t>(tx * M) - static_cast<ptrdiff_t>(p_.pad_left);
        a.tiles = len;
        a.v = v + off * c + cb * B;
        a.v_xi = vs;
        a.v_tile = c;
        kernels_->input[M](a);
      }
      t += len;
    }
    for (int xi = 0; xi < A * A; ++xi)
      gemm(cfg_, cnt, kk, c, StridedA({v + xi * vs, static_cast<ptrdiff_t>(c), 1}), u_[xi], m + xi * ms,
           static_cast<ptrdiff_t>(kk), Epilogue{}, 1);
    const size_t plane = g.oh * g.ow * B;
    for (size_t t = t0; t < t0 + cnt;) {  // output transform
      const size_t b = t / per_image, ty = t / g.tw % g.th, tx = t % g.tw;
      const size_t len = std::min(g.tw - tx, t0 + cnt - t), off = t - t0;
      for (size_t kb = 0; kb < kk / B; ++kb) {
        WinoBlockedOutput a;
        a.m = m + off * kk + kb * B;
        a.m_xi = ms;
        a.m_tile = kk;
        a.tiles = len;
        a.y = g.y + b * g.y_image + kb * plane;
        a.residual = g.residual ? g.residual + b * kk * g.oh * g.ow + kb * plane : nullptr;
        a.bias = ep_.bias.data() + kb * B;
        a.oh = g.oh;
        a.ow = g.ow;
        a.oy0 = ty * M;
        a.ox0 = tx * M;
        a.epilogue = g.epi;
        kernels_->output[M](a);
        if (ep_.act_after) {
          const size_t cols = std::min(g.ow, a.ox0 + len * M) - a.ox0;
          for (size_t i = a.oy0; i < std::min(g.oh, a.oy0 + M); ++i) ep_.finish(a.y + (i * g.ow + a.ox0) * B, cols * B);
        }
      }
      t += len;
    }
  }

  static constexpr size_t kMaxTiles = 512;

  ConvParams p_;
  const GemmConfig& cfg_;
  const WinoBlockedKernels* kernels_;
  std::vector<PackedB> u_;
  BlockedEpilogue ep_;
};

}  // namespace

std::unique_ptr<BlockedAlgorithm> make_blocked_winograd(const ConvLayer& layer, int m) {
  if (m == 2) return std::make_unique<BlockedWinograd<2>>(layer);
  if (m == 3) return std::make_unique<BlockedWinograd<3>>(layer);
  if (m == 4) return std::make_unique<BlockedWinograd<4>>(layer);
  FC_CHECK(m == 6, "blocked Winograd has m = 2, 3, 4 or 6, got ", m);
  return std::make_unique<BlockedWinograd<6>>(layer);
}

}  // namespace fc

// Winograd F(m x m, 3x3) convolution (Lavin & Gray 2016) for stride-1, undilated,
// ungrouped 3x3 layers: Y = AT [ (G g G^T) (.) (BT d B) ] A per m x m output tile.
//
// The filter transform U[xi] (K x C, xi < alpha^2) is done once here, in double, and each
// U[xi] is packed for the GEMM once. A run walks blocks of T tiles (over images and tile
// rows), each in three phases:
//   1. input transform, per (channel, tile row segment): V[xi][c][t]       (T tiles)
//   2. alpha^2 independent GEMMs M[xi] (K x T) = U[xi] (K x C) * V[xi] (C x T)
//   3. output transform with bias, residual and activation fused, per (channel, segment).
// T is chosen so V and M of a block stay in cache between the phases. With many tiles each
// thread takes whole blocks (one task each); with few, the threads share every block: each
// phase is one parallel_for over channels (1, 3) or the alpha^2 GEMMs (2), so the end of a
// phase is the only synchronisation. All of it runs on the engine's task pool
// (common/parallel.h): an OpenMP team here would keep spinning threads of its own beside
// the pool's and oversubscribe the cores for the layers that follow.
#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "common/parallel.h"
#include "common/scratch.h"
#include "conv/conv-algo.h"
#include "conv/winograd-filter.h"
#include "conv/winograd-kernels.h"
#include "conv/winograd-transforms.h"
#include "gemm/gemm.h"

namespace fc {
namespace {

struct WinoKernels {
  wino_input_fn input;
  wino_output_fn output;
};

template <int M>
WinoKernels wino_kernels(Isa isa) {
#define FC_WINO_PICK(isa_suffix, m)                                                       \
  if (M == m)                                                                             \
    return {f32_winograd_input_ukernel_##m##x##m##__##isa_suffix, f32_winograd_output_ukernel_##m##x##m##__##isa_suffix};
#if !defined(FASTCONV_NO_X86_KERNELS)
  if (isa == Isa::avx512) {
    FC_WINO_PICK(avx512f, 2) FC_WINO_PICK(avx512f, 3) FC_WINO_PICK(avx512f, 4) FC_WINO_PICK(avx512f, 6)
  }
  if (isa == Isa::avx2) {
    FC_WINO_PICK(avx2, 2) FC_WINO_PICK(avx2, 3) FC_WINO_PICK(avx2, 4) FC_WINO_PICK(avx2, 6)
  }
#endif
  (void)isa;
  FC_WINO_PICK(scalar, 2) FC_WINO_PICK(scalar, 3) FC_WINO_PICK(scalar, 4) FC_WINO_PICK(scalar, 6)
#undef FC_WINO_PICK
  return {nullptr, nullptr};
}

// Rows [r0, ..) of a packed A, r0 a multiple of MR (PackedA blocks start on MR panels).
class RowsOf final : public ASource {
 public:
  RowsOf(const ASource& a, size_t r0) : a_(a), r0_(r0) {}
  const float* block(const GemmConfig& cfg, size_t i0, size_t mc, size_t k0, size_t kc, float* buf) const override {
    return a_.block(cfg, r0_ + i0, mc, k0, kc, buf);
  }
  bool prepacked() const override { return a_.prepacked(); }  // packed U: its MR is fixed

 private:
  const ASource& a_;
  size_t r0_;
};

// A run of consecutive tiles of one tile row: image b, tile row ty, tiles tx0.., at
// offset `off` inside the block.
struct Segment {
  size_t b, ty, tx0, count, off;
};

template <int M>
class WinogradConv final : public ConvAlgorithm {
  static constexpr int A = WinogradMatrices<M>::kAlpha;

 public:
  explicit WinogradConv(const ConvLayer& l)
      : p_(l.p), act_(l.act), isa_(l.isa), cfg_(gemm_config(l.isa)), k_(wino_kernels<M>(l.isa)) {
    u_ = pack_u(cfg_, l.weight);
    bias_.assign(p_.out_channels, 0.f);
    if (l.bias) bias_.assign(l.bias, l.bias + p_.out_channels);
    // Kept (9 floats per U's alpha^2) to pack U for the 16-wide kernel if a run needs it.
    if (isa_ == Isa::avx512) weight_.assign(l.weight, l.weight + p_.out_channels * p_.in_channels * 9);
  }

  const char* name() const override {
    return M == 2 ? "winograd_2x2" : M == 3 ? "winograd_3x3" : M == 4 ? "winograd_4x4" : "winograd_6x6";
  }

  void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
           int nthreads) const override {
    Job j{x, h, w, y, y_image, residual, p_.out_h(h), p_.out_w(w), 0, 0, 0};
    j.th = (j.oh + M - 1) / M;
    j.tw = (j.ow + M - 1) / M;
    j.total = n * j.th * j.tw;
    const size_t c = p_.in_channels, kk = p_.out_channels;
    // Below ~1 MFLOP of element-wise products, waking another thread costs more than it saves
    // (the pool's wake-up is a few microseconds; an OpenMP team's was far more).
    const double flops = 2.0 * A * A * static_cast<double>(j.total) * static_cast<double>(c) * static_cast<double>(kk);
    const int nt = flops < 1e6 ? 1 : std::max(1, nthreads);
    if (nt > 1 && j.total >= kMinTilesPerThread * static_cast<size_t>(nt)) {
      // Enough tiles for each thread to run whole blocks on its own scratch: V and M stay in
      // that core's caches, and with the pool's two-ended claiming each thread keeps the same
      // part of the image layer after layer, so no data crosses between the cores inside the
      // layer (measured on this VM's two-die periods: SqueezeNet 1.02-1.09x, ResNet-50
      // 1.00-1.06x; within 1% on one die). Below 8 panels per thread, one task each of equal
      // size (196 tiles: 98 + 98), run as blocks of two panels (64 + 34): in one process,
      // alternating, 0-7% faster on the 56x56 layers than one 98-tile block, whose V and M
      // (1.1-1.8 MiB) overflow the core's L2 (SqueezeNet 1.02x, ResNet-50 1.00x, one die).
      if (j.total >= static_cast<size_t>(8 * nt) * cfg_.nr) {
        const size_t tb = block_tiles(j.total, size_t{1} << 20);
        parallel_for((j.total + tb - 1) / tb, nt, [&](size_t i) {
          block(j, i * tb, std::min(tb, j.total - i * tb), tb, scratch(tb), 1);
        });
      } else {
        const size_t share = (j.total + nt - 1) / nt, tb = std::min(share, 2 * cfg_.nr);
        parallel_for(static_cast<size_t>(nt), nt, [&](size_t i) {
          const size_t end = std::min(j.total, (i + 1) * share);
          const Scratch sc = scratch(tb);
          for (size_t t0 = i * share; t0 < end; t0 += tb) block(j, t0, std::min(tb, end - t0), tb, sc, 1);
        });
      }
    } else {
      // Few tiles: the threads share each block, splitting channels and the alpha^2 GEMMs.
      // A last block of less than half a block joins the one before (up to kMaxTiles): each
      // block costs three synchronised phases, and 196 tiles as 160 + 36 ran 3-5% slower
      // than as one block (measured before such layers took the per-thread path on 2 threads).
      size_t tb = block_tiles(j.total, size_t{2} << 20);
      if (j.total > tb && j.total - tb < tb / 2 && j.total <= kMaxTiles) tb = j.total;
      const Scratch sc = scratch(tb);  // the caller's buffers, shared by every task
      for (size_t t0 = 0; t0 < j.total; t0 += tb) block(j, t0, std::min(tb, j.total - t0), tb, sc, nt);
    }
  }

 private:
  // U[xi][k][c] = (G g_kc G^T)[xi], accumulated in double and rounded once, each U[xi]
  // packed for cfg's micro-kernel.
  std::vector<PackedA> pack_u(const GemmConfig& cfg, const float* weight) const {
    const size_t kk = p_.out_channels, c = p_.in_channels;
    const std::vector<float> u = winograd_filter_transform<M>(weight, kk, c);
    std::vector<PackedA> packed;
    packed.reserve(A * A);
    for (int xi = 0; xi < A * A; ++xi)
      packed.emplace_back(cfg, kk, c, StridedMatrix{u.data() + xi * kk * c, static_cast<ptrdiff_t>(c), 1});
    return packed;
  }

  // The GEMM kernel and packed U for blocks of tb tiles. A block of <= 16 tiles would fill
  // at most half of the AVX-512 kernel's 32 columns; the AVX2 6x16 kernel (present on every
  // AVX-512 CPU) does half the work there: about 2x faster on CPUs with 256-bit datapaths
  // (Zen 4: resnet 14x14x256 F(4x4) 2.2 -> 1.4 ms), no slower on ones with 512-bit FMA units.
  std::pair<const GemmConfig*, const std::vector<PackedA>*> gemm_for(size_t tb) const {
    const GemmConfig& narrow = gemm_config(Isa::avx2);
    if (isa_ != Isa::avx512 || tb > narrow.nr) return {&cfg_, &u_};
    std::call_once(narrow_once_, [&] { narrow_u_ = pack_u(narrow, weight_.data()); });
    return {&narrow, &narrow_u_};
  }

  struct Job {
    const float* x;
    size_t h, w;
    float* y;
    size_t y_image;  // floats between images of y
    const float* residual;
    size_t oh, ow, th, tw, total;
  };
  struct Scratch {
    float *v, *m;
    size_t vs, ms;  // floats between consecutive xi matrices
  };

  // One cache line between consecutive xi matrices: the transforms touch all alpha^2 of
  // them at once, and strides that are multiples of 4 KiB would map them to one L1 set.
  Scratch scratch(size_t tb) const {
    const size_t vs = p_.in_channels * tb + 16, ms = p_.out_channels * tb + 16;
    return {thread_scratch(kScratchOp0, A * A * vs), thread_scratch(kScratchOp1, A * A * ms), vs, ms};
  }

  // Tiles [t0, t0 + cnt) (over images, tile rows, tiles) through the three phases, each
  // phase split into tasks for nt threads (run inline when nt == 1).
  void block(const Job& j, size_t t0, size_t cnt, size_t tb, const Scratch& sc, int nt) const {
    const size_t c = p_.in_channels, kk = p_.out_channels;
    Segment segs[kMaxSegments];
    size_t ns = 0;
    for (size_t t = t0; t < t0 + cnt;) {
      const size_t b = t / (j.th * j.tw), ty = (t / j.tw) % j.th, tx = t % j.tw;
      const size_t len = std::min(j.tw - tx, t0 + cnt - t);
      segs[ns++] = {b, ty, tx, len, t - t0};
      t += len;
    }
    // items [0, count) of a phase in a few chunks per thread (one chunk when nt == 1)
    auto for_chunks = [nt](size_t count, auto&& body) {
      const size_t chunks = nt == 1 ? 1 : std::min<size_t>(count, 4 * static_cast<size_t>(nt));
      parallel_for(chunks, nt, [&](size_t ch) {
        for (size_t i = count * ch / chunks, end = count * (ch + 1) / chunks; i < end; ++i) body(i);
      });
    };
    for_chunks(ns * c, [&](size_t i) {
      const Segment& s = segs[i % ns];
      const size_t ci = i / ns;
      WinoInputArgs a;
      a.x = j.x + (s.b * c + ci) * j.h * j.w;
      a.h = j.h;
      a.w = j.w;
      a.iy0 = static_cast<ptrdiff_t>(s.ty * M) - static_cast<ptrdiff_t>(p_.pad_top);
      a.ix0 = static_cast<ptrdiff_t>(s.tx0 * M) - static_cast<ptrdiff_t>(p_.pad_left);
      a.tiles = s.count;
      a.v = sc.v + ci * tb + s.off;
      a.v_stride = sc.vs;
      k_.input(a);
    });
    // alpha^2 GEMMs, each cut into `parts` row ranges (on MR boundaries) when alpha^2 does
    // not divide evenly among the threads (F(3x3): 25 GEMMs on 2 threads would be 13 + 12).
    const auto [gc, us] = gemm_for(tb);
    const size_t panels = (kk + gc->mr - 1) / gc->mr;
    const size_t parts = (A * A) % nt == 0 ? 1 : std::min<size_t>(panels, 2);
    parallel_for(A * A * parts, nt, [&](size_t unit) {
      const size_t xi = unit / parts, part = unit % parts;
      const size_t r0 = panels * part / parts * gc->mr, r1 = std::min(kk, panels * (part + 1) / parts * gc->mr);
      StridedB src({sc.v + xi * sc.vs, static_cast<ptrdiff_t>(tb), 1});
      RowsOf rows((*us)[xi], r0);
      gemm(*gc, r1 - r0, cnt, c, rows, src, sc.m + xi * sc.ms + r0 * tb, static_cast<ptrdiff_t>(tb), Epilogue{}, 1);
    });
    for_chunks(ns * kk, [&](size_t i) {
      const Segment& s = segs[i % ns];
      const size_t k = i / ns;
      const size_t plane = k * j.oh * j.ow;
      WinoOutputArgs a;
      a.m = sc.m + k * tb + s.off;
      a.m_stride = sc.ms;
      a.tiles = s.count;
      a.bias = bias_[k];
      a.residual = j.residual ? j.residual + s.b * kk * j.oh * j.ow + plane : nullptr;
      a.y = j.y + s.b * j.y_image + plane;
      a.oh = j.oh;
      a.ow = j.ow;
      a.oy0 = s.ty * M;
      a.ox0 = s.tx0 * M;
      a.act = act_;
      k_.output(a);
    });
  }

  // Tiles per block: V and M of a block (alpha^2 (C + K) T floats) within `budget` bytes
  // so they stay in cache between the phases (measured on Zen 4: 0.5-4 MiB all within
  // noise), T a multiple of the GEMM's nr, at most kMaxTiles, and at least 2 nr: every
  // block streams all of U (37 MB for 512 x 512 channels in F(4x4)), so wide layers want
  // few, wider blocks (512 x 512 x 28 x 28, F(4x4): 16.7 -> 14.8 ms with the floor at 2 nr).
  size_t block_tiles(size_t total, size_t budget) const {
    const size_t per_tile = static_cast<size_t>(A * A) * (p_.in_channels + p_.out_channels) * sizeof(float);
    size_t t = budget / per_tile / cfg_.nr * cfg_.nr;
    t = std::clamp<size_t>(t, 2 * cfg_.nr, kMaxTiles / cfg_.nr * cfg_.nr);
    return std::min(t, total);
  }

  // A block of at most kMaxTiles tiles spans at most kMaxTiles + 1 tile-row segments.
  static constexpr size_t kMaxTiles = 512, kMaxSegments = kMaxTiles + 1;
  // Tiles per thread from which the threads run blocks of their own (3 panels of 32 columns).
  static constexpr size_t kMinTilesPerThread = 96;

  ConvParams p_;
  Activation act_;
  Isa isa_;
  const GemmConfig& cfg_;
  WinoKernels k_;
  std::vector<PackedA> u_;
  std::vector<float> bias_, weight_;
  mutable std::once_flag narrow_once_;
  mutable std::vector<PackedA> narrow_u_;  // U packed for the AVX2 kernel, on first need
};

}  // namespace

std::unique_ptr<ConvAlgorithm> make_winograd_conv(const ConvLayer& layer, int m) {
  if (m == 2) return std::make_unique<WinogradConv<2>>(layer);
  if (m == 3) return std::make_unique<WinogradConv<3>>(layer);
  if (m == 4) return std::make_unique<WinogradConv<4>>(layer);
  return std::make_unique<WinogradConv<6>>(layer);
}

}  // namespace fc

// The five loops around the micro-kernel (BLIS): NC -> KC (pack B) -> MC (pack A) -> NR -> MR
// (or MR -> NR: GemmLoopOrder, gemm-config.h).
// Tasks (see gemm() below) are disjoint column (or row) ranges of C, each walking the
// loops over its own range with its own per-thread packing buffers.
#include <algorithm>

#include "act/activation.h"
#include "common/check.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "gemm/gemm.h"

namespace fc {
namespace {

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

struct Range {
  size_t m0, m1, n0, n1;
};


// Calls fn(j, dst, len) for each run of stored columns of a kTileWrapped tile of n columns:
// tile columns [j, j + len) go to c + dst (relative to the start of column 0's row).
template <class Fn>
inline void for_each_wrapped_run(const GemmTileParams& p, size_t n, Fn fn) {
  const ptrdiff_t width = static_cast<ptrdiff_t>(p.wrap_width), valid = static_cast<ptrdiff_t>(p.wrap_valid);
  ptrdiff_t col = static_cast<ptrdiff_t>(p.wrap_col), dst = col;
  for (ptrdiff_t j = 0; j < static_cast<ptrdiff_t>(n);) {
    if (col >= valid) {  // past this row's stored columns: on to the next row
      j += width - col;
      dst += valid - col;
      col = 0;
      continue;
    }
    const ptrdiff_t len = std::min(static_cast<ptrdiff_t>(n) - j, valid - col);
    fn(j, dst, len);
    j += len, dst += len, col += len;
  }
}

// An activation not applied in registers, over a finished tile of m x n at ct.
void apply_post(act_kernel_fn post, const Epilogue& ep, const ImplicitB* ib, const GemmTileParams& p, size_t m,
                size_t n, float* ct, ptrdiff_t ldc) {
  if (ep.transposed) {
    for (size_t col = 0; col < n; ++col) post(ep.act, ct + col * ldc, m);
  } else if (ib) {
    for_each_wrapped_run(p, n, [&](ptrdiff_t, ptrdiff_t dst, ptrdiff_t len) {
      for (size_t r = 0; r < m; ++r) post(ep.act, ct + r * ldc + dst, static_cast<size_t>(len));
    });
  } else {
    for (size_t r = 0; r < m; ++r) post(ep.act, ct + r * ldc, n);
  }
}

// All of B packed once, shared by every task: for each k block, every NR panel (the
// layout of PackedA, transposed roles). Null when each task packs its own B blocks.
struct SharedB {
  const float* data = nullptr;
  size_t n_padded = 0;
};

void gemm_range(const GemmConfig& cfg, size_t k, const ASource& a, const BSource& b, float* c, ptrdiff_t ldc,
                const Epilogue& ep, Range rg, size_t nc_blk, SharedB bp = {}) {
  const ImplicitB* ib = b.implicit();
  const ImplicitA* ia = a.implicit();
  const size_t kc_max = gemm_block_k(cfg, k);
  const size_t b_floats = kc_max * round_up(std::min(nc_blk, rg.n1 - rg.n0), cfg.nr);
  float* bbuf = bp.data || ib ? nullptr : thread_scratch(kScratchPackB, b_floats);
  float* abuf = ia ? nullptr : thread_scratch(kScratchPackA, kc_max * round_up(std::min(cfg.mc, rg.m1 - rg.m0), cfg.mr));
  const GemmTileParams fin = final_tile_params(ep);
  const act_kernel_fn post = act_in_registers(ep.act) ? nullptr : act_kernel(cfg.isa);
  // A packed before this call (a plan's weights, or A packed once for all tasks): its panels
  // are read from memory on the first column panel's pass, not from this thread's buffer.
  const bool a_packed_before = a.prepacked() && !ia;

  for (size_t jc = rg.n0; jc < rg.n1; jc += nc_blk) {  // NC: a column block of B and C
    const size_t nc = std::min(nc_blk, rg.n1 - jc);
    for (size_t pc = 0; pc == 0 || pc < k; pc += kc_max) {  // KC: one depth block, packed B
      const size_t kc = std::min(kc_max, k - pc);
      const bool last = pc + kc >= k;
      const float* bblk = bbuf;
      if (bp.data)
        bblk = bp.data + pc * bp.n_padded + jc * kc;  // jc is a multiple of NR
      else if (!ib)
        b.pack(cfg, pc, kc, jc, nc, bbuf);
      for (size_t ic = rg.m0; ic < rg.m1; ic += cfg.mc) {  // MC: a row block of A, packed
        const size_t mc = std::min(cfg.mc, rg.m1 - ic);
        const float* ablk = ia ? nullptr : a.block(cfg, ic, mc, pc, kc, abuf);
        auto run_tile = [&](size_t jr, size_t ir) {
          const size_t n = std::min(cfg.nr, nc - jr), j = jc + jr;
          // Wrapped columns: where column j's row starts in C, and j's place in it.
          const size_t j_row = ib ? j / ib->width * ib->valid : 0, j_col = ib ? j % ib->width : 0;
          const size_t m = std::min(cfg.mr, mc - ir);
          const size_t i = ic + ir;
          // Element (i, j) of a matrix with leading dimension ld: stored transposed, or
          // with wrapped columns (from the start of column j's row), or plainly.
          auto at = [&](ptrdiff_t ld) {
            if (ep.transposed) return j * ld + i;
            if (ib) return i * ld + j_row;
            return i * ld + j;
          };
          float* ct = c + at(ldc);
          GemmTileParams p{};
          if (last) {
            p = fin;
            if (ep.bias) p.bias = ep.bias + (ep.bias_per_column ? j : i);
            if (ep.residual) p.residual = ep.residual + at(ep.ld_residual);
          }
          if (pc > 0) p.flags |= kTileAccumulate;
          // An operand packed before the call (in a model, every layer's weights) comes from
          // memory on its first use here: the first column panel's pass over an A block, the
          // first A tile of each B panel. Those tiles ask for the next panel in memory (across
          // blocks too) meanwhile: in one process, alternating, ResNet-50, GoogLeNet, VGG-19
          // 2.5%, SqueezeNet 1.8%.
          if (a_packed_before && jr == 0) p.prefetch = ablk + (ir + cfg.mr) * kc, p.prefetch_step = cfg.mr;
          if (bp.data && ir == 0) p.prefetch = bblk + (jr + cfg.nr) * kc, p.prefetch_step = cfg.nr;
          if (ep.transposed) p.flags |= kTileTransposed;
          if (ia) {
            // Row pointers of this tile's rows; rows past m repeat row i (read, never stored).
            const float* rows[kMaxTileRows];
            for (size_t r = 0; r < cfg.mr; ++r) rows[r] = ia->base + ia->rows[i + (r < m ? r : 0)];
            cfg.igemm_a_ukernel(m, n, kc, rows, ia->offsets + pc, bblk + jr * kc, ct, ldc, &p);
          } else if (ib) {
            p.flags |= kTileWrapped;
            p.wrap_col = j_col, p.wrap_width = ib->width, p.wrap_valid = ib->valid;
            cfg.igemm_ukernel(m, n, kc, ablk + ir * kc, ib->base + j, ib->offsets + pc, ct, ldc, &p);
          } else {
            cfg.ukernel(m, n, kc, ablk + ir * kc, bblk + jr * kc, ct, ldc, &p);
          }
          if (last && post) apply_post(post, ep, ib, p, m, n, ct, ldc);
        };
        if (cfg.order == GemmLoopOrder::rows_outer) {
          for (size_t ir = 0; ir < mc; ir += cfg.mr)    // MR: one A micro-panel, kept in L1
            for (size_t jr = 0; jr < nc; jr += cfg.nr)  // NR: one micro-kernel call
              run_tile(jr, ir);
        } else {
          for (size_t jr = 0; jr < nc; jr += cfg.nr)    // NR: one B micro-panel, kept in L1
            for (size_t ir = 0; ir < mc; ir += cfg.mr)  // MR: one micro-kernel call
              run_tile(jr, ir);
        }
      }
    }
  }
}

// Packs all of A (m x k) into PackedA's layout, in parallel over (k block, MC row block).
void pack_a_all(const GemmConfig& cfg, size_t m, size_t k, const ASource& a, float* dst, size_t m_padded,
                int nthreads) {
  const size_t kblk = gemm_block_k(cfg, k);
  const size_t kblocks = (k + kblk - 1) / kblk, mblocks = (m + cfg.mc - 1) / cfg.mc;
  parallel_for(kblocks * mblocks, nthreads, [&](size_t t) {
    const size_t k0 = (t / mblocks) * kblk, i0 = (t % mblocks) * cfg.mc;
    const size_t kc = std::min(kblk, k - k0), mc = std::min(cfg.mc, m - i0);
    float* out = dst + k0 * m_padded + i0 * kc;
    const float* src = a.block(cfg, i0, mc, k0, kc, out);
    if (src != out) std::copy(src, src + round_up(mc, cfg.mr) * kc, out);
  });
}

// Packs all of B (k x n) into PackedB's layout, in parallel over (k block, run of NR
// panels): a narrow B is often one k block and one NC block, and packing it on one
// thread left the other idle for half of a 1x1 layer at 13x13 (SqueezeNet).
void pack_b_all(const GemmConfig& cfg, size_t n, size_t k, const BSource& b, float* dst, size_t n_padded,
                int nthreads) {
  constexpr size_t kPanelsPerTask = 2;
  const size_t kblk = gemm_block_k(cfg, k);
  const size_t kblocks = (k + kblk - 1) / kblk, chunk = kPanelsPerTask * cfg.nr;
  const size_t chunks = (n + chunk - 1) / chunk;
  parallel_for(kblocks * chunks, nthreads, [&](size_t t) {
    const size_t k0 = (t / chunks) * kblk, j0 = (t % chunks) * chunk;
    const size_t kc = std::min(kblk, k - k0), nc = std::min(chunk, n - j0);
    b.pack(cfg, k0, kc, j0, nc, dst + k0 * n_padded + j0 * kc);
  });
}

}  // namespace

GemmTileParams final_tile_params(const Epilogue& ep) {
  GemmTileParams p{};
  p.flags = kTileFinal;
  if (ep.bias) p.flags |= ep.bias_per_column ? kTileBiasCol : kTileBiasRow;
  if (ep.residual) p.flags |= kTileResidual;
  p.ld_residual = ep.ld_residual;
  switch (ep.act.kind) {
    case ActKind::relu: p.flags |= kTileClamp; p.lo = 0.f; p.hi = __builtin_inff(); break;
    case ActKind::clip: p.flags |= kTileClamp; p.lo = ep.act.alpha; p.hi = ep.act.beta; break;
    case ActKind::leaky_relu: p.flags |= kTileLeaky; p.leaky = ep.act.alpha; break;
    default: break;
  }
  return p;
}

// Work is cut into a few tasks per thread, claimed dynamically (common/parallel.h), so a
// late or slow thread costs only its own share. Tasks are column ranges of C when N
// allows (every B panel is packed exactly once; A is shared, packed once up front) and
// row ranges otherwise (B packed once, shared). Each task reads all of the shared
// operand, so columns are split when B is at least as large as A (64 x 169 outputs of a
// 13x13 1x1 layer: as 8-row tasks every task streamed all of B, and 2 threads ran it
// 1.1-1.2x faster than one).
void gemm(const GemmConfig& cfg_in, size_t m, size_t n, size_t k, const ASource& a, const BSource& b, float* c,
          ptrdiff_t ldc, const Epilogue& ep, int nthreads) {
  if (m == 0 || n == 0) return;
  // An A packed before the call fixes MR; one packed here (or read in place) may take fewer rows.
  const bool a_free = !b.implicit() && (a.implicit() || !a.prepacked());
  const GemmConfig& cfg = a_free ? gemm_config_for_rows(cfg_in, m) : cfg_in;
  FC_CHECK(!(b.implicit() && ep.transposed), "an implicit B has no transposed product");
  FC_CHECK(!(a.implicit() && b.implicit()), "A and B cannot both be read in place");
  FC_CHECK(!a.implicit() || a.prepacked(), "an implicit A is read in place, never packed");
  FC_CHECK(!a.implicit() || cfg.mr <= static_cast<size_t>(kMaxTileRows), "an implicit A needs MR <= ", kMaxTileRows);
  const size_t nc_blk = gemm_block_n(cfg, m);
  const size_t tiles_m = (m + cfg.mr - 1) / cfg.mr, tiles_n = (n + cfg.nr - 1) / cfg.nr;
  const SharedB prepacked{b.packed(), tiles_n * cfg.nr};  // B packed once by its source (weights)
  // Below ~1 MFLOP waking another thread costs more than it saves.
  const double flops = 2.0 * m * n * std::max<size_t>(k, 1);
  const size_t nt = flops < 1e6 ? 1 : static_cast<size_t>(std::max(1, nthreads));
  if (nt <= 1) {
    gemm_range(cfg, k, a, b, c, ldc, ep, Range{0, m, 0, n}, nc_blk, prepacked);
    return;
  }
  constexpr size_t kTasksPerThread = 4;
  constexpr size_t kMaxSharedB = size_t(4) << 20;  // floats (16 MiB): B packed once when N is narrow
  const bool along_n =
      tiles_n >= nt && (tiles_n >= kTasksPerThread * nt || tiles_n * cfg.nr >= tiles_m * cfg.mr);
  if (!along_n) {
    const size_t rows = (tiles_m + kTasksPerThread * nt - 1) / (kTasksPerThread * nt) * cfg.mr;
    const size_t tasks = (m + rows - 1) / rows;
    // Narrow B: pack it once for all tasks when it is small enough to stay in L2/L3;
    // otherwise each task packs the B blocks it needs.
    SharedB bp = prepacked;
    const size_t n_padded = tiles_n * cfg.nr;
    if (!bp.data && !b.implicit() && tasks > 1 && k * n_padded <= kMaxSharedB) {
      float* buf = thread_scratch(kScratchPackAll, n_padded * std::max<size_t>(k, 1));
      pack_b_all(cfg, n, k, b, buf, n_padded, static_cast<int>(nt));
      bp = SharedB{buf, n_padded};
    }
    parallel_for(tasks, static_cast<int>(nt), [&](size_t t) {
      gemm_range(cfg, k, a, b, c, ldc, ep, Range{t * rows, std::min(m, (t + 1) * rows), 0, n}, nc_blk, bp);
    });
    return;
  }
  // Tasks: a multiple of the threads, a few per thread, of about 4 panels or more where N
  // allows (so an A block fetched into L2 serves several B panels), no wider than NC; the
  // panels are dealt out evenly (25 panels as 6 tasks: 4 or 5 each, not 5 tasks of 5).
  const size_t max_panels = std::max<size_t>(nc_blk / cfg.nr, 1);
  size_t tasks = std::clamp<size_t>(tiles_n / 4, nt, kTasksPerThread * nt) / nt * nt;
  tasks = std::min(std::max(tasks, (tiles_n + max_panels - 1) / max_panels), tiles_n);
  auto first_col = [&](size_t t) { return std::min(n, t * tiles_n / tasks * cfg.nr); };
  const ASource* asrc = &a;
  PackedAView packed(nullptr, 0);
  if (tasks > 1 && !a.prepacked()) {  // one copy of packed A for all tasks
    const size_t m_padded = tiles_m * cfg.mr;
    float* buf = thread_scratch(kScratchPackAll, m_padded * std::max<size_t>(k, 1));
    pack_a_all(cfg, m, k, a, buf, m_padded, static_cast<int>(nt));
    packed = PackedAView(buf, m_padded);
    asrc = &packed;
  }
  parallel_for(tasks, static_cast<int>(nt), [&](size_t t) {
    gemm_range(cfg, k, *asrc, b, c, ldc, ep, Range{0, m, first_col(t), first_col(t + 1)}, nc_blk, prepacked);
  });
}

}  // namespace fc

// The one micro-kernel template (contract in gemm-ukernel.h): MR rows x NV vectors of V,
// accumulators held in registers, A broadcast from the packed panel, B loaded as vectors.
// Each ISA file instantiates it once per tile size with its own vector traits.
#pragma once
#include <cstddef>
#include <type_traits>

#include "gemm/gemm-ukernel.h"
#include "simd/v-traits.h"

// Adds what the flags ask for to one vector of results and stores its lanes [lo, hi) (all W
// when lo = 0, hi = W) at dst + lane: the old c (k blocks after the first), then on the last
// k block the bias (already a vector), the residual (res + lane), leaky and clamp.
template <class V>
inline void store_lanes(typename V::reg x, float* dst, int lo, int hi, typename V::reg bias, const float* res,
                        const fc::GemmTileParams* p) {
  const uint32_t f = p->flags;
  const bool full = lo == 0 && hi == V::W;
  if (f & fc::kTileAccumulate) x = V::add(x, full ? V::load(dst) : V::load_range(dst, lo, hi));
  if (f & fc::kTileFinal) {
    if (f & (fc::kTileBiasRow | fc::kTileBiasCol)) x = V::add(x, bias);
    if (f & fc::kTileResidual) x = V::add(x, full ? V::load(res) : V::load_range(res, lo, hi));
    if (f & fc::kTileLeaky) x = V::select_neg(x, V::mul(x, V::set1(p->leaky)), x);
    if (f & fc::kTileClamp) x = V::min(V::max(x, V::set1(p->lo)), V::set1(p->hi));
  }
  if (full)
    V::store(dst, x);
  else
    V::store_range(dst, x, lo, hi);
}

// A transposed tile (kTileTransposed): each of the n columns is stored as m contiguous values.
// Where V can transpose 8 rows of 16 in registers (MR <= 8; rows past MR copies of the last,
// never stored), the epilogue runs on the transposed registers, two columns each, stored as
// two masked halves: through the stack, each column's load waited on the masked stores of the
// transpose (store forwarding fails), 10% of a 1x1 layer at 7x7. Otherwise element by element
// through the stack.
template <class V, int MR, int NV>
inline void store_tile_transposed(typename V::reg (&acc)[MR][NV], size_t m, size_t n, float* c, ptrdiff_t ldc,
                                  const fc::GemmTileParams* p) {
  using reg = typename V::reg;
  constexpr int W = V::W, NC = NV * W;
  const uint32_t f = p->flags;
  const int rows = static_cast<int>(m);
  if constexpr (MR <= 8 && W == 16 && has_transpose_8x16<V>::value) {
    const bool residual = (f & fc::kTileFinal) && (f & fc::kTileResidual);
    const reg bias_row = (f & fc::kTileBiasRow) ? V::dup_halves_n(p->bias, rows) : V::set1(0.f);
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      reg in[8], pairs[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) in[r] = acc[r < MR ? r : MR - 1][v];
      V::transpose_8x16_pairs(in, pairs);
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q) {
        const size_t jl = static_cast<size_t>(v * W + (q < 4 ? q : q + 4)), jh = jl + 4;  // its two columns
        if (jl >= n) continue;
        const bool hi = jh < n;
        float* cl = c + jl * ldc;
        float* ch = hi ? c + jh * ldc : nullptr;
        reg x = pairs[q];
        if (f & fc::kTileAccumulate) x = V::add(x, V::load_halves(cl, ch, rows));
        if (f & fc::kTileFinal) {
          if (f & fc::kTileBiasCol) x = V::add(x, V::set_halves(p->bias[jl], hi ? p->bias[jh] : 0.f));
          if (f & fc::kTileBiasRow) x = V::add(x, bias_row);
          if (residual) {
            const float* rl = p->residual + jl * p->ld_residual;
            x = V::add(x, V::load_halves(rl, hi ? rl + 4 * p->ld_residual : nullptr, rows));
          }
          if (f & fc::kTileLeaky) x = V::select_neg(x, V::mul(x, V::set1(p->leaky)), x);
          if (f & fc::kTileClamp) x = V::min(V::max(x, V::set1(p->lo)), V::set1(p->hi));
        }
        V::store_halves(cl, ch, x, rows);
      }
    }
  } else {
    alignas(64) float cols[NC * MR + W];  // column j at cols + j * MR; W spare so a full vector load stays inside
    alignas(64) float t[MR][NC];
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::store(t[r] + v * W, acc[r][v]);
    for (size_t j = 0; j < n; ++j)
#pragma GCC unroll 32
      for (int r = 0; r < MR; ++r) cols[j * MR + r] = t[r][j];
    for (size_t j = 0; j < n; ++j) {
      float* cj = c + j * ldc;
      const float* res = (f & fc::kTileResidual) ? p->residual + j * p->ld_residual : nullptr;
      for (int r0 = 0; r0 < rows; r0 += W) {
        const bool full = rows - r0 >= W;
        const int lanes = full ? W : rows - r0;
        reg bias = V::set1(0.f);
        if (f & fc::kTileBiasCol) bias = V::set1(p->bias[j]);
        if (f & fc::kTileBiasRow) bias = full ? V::load(p->bias + r0) : V::load_n(p->bias + r0, lanes);
        const float* src = cols + j * MR + r0;
        store_lanes<V>(full ? V::load(src) : V::load_n(src, lanes), cj + r0, 0, lanes, bias, res ? res + r0 : nullptr,
                       p);
      }
    }
  }
}

// Asks for the lines of C (and of the residual) the store phase touches before the k loop
// starts, so fetching them overlaps the FMAs: a tile's rows are ldc apart, rarely cached, and
// k blocks after the first read them back (a 64 x 3136 x 576 product in 3 k blocks on Zen 3:
// ). Transposed tiles: a line per column; wrapped ones: the rows' start.
template <int MR, int NC>
inline void prefetch_tile(size_t m, size_t n, float* c, ptrdiff_t ldc, const fc::GemmTileParams* p) {
  const uint32_t f = p->flags;
  const bool residual = (f & fc::kTileFinal) && (f & fc::kTileResidual);
  if (f & fc::kTileTransposed) {
    for (size_t j = 0; j < n; ++j) {
      __builtin_prefetch(c + j * ldc, 1);
      if (residual) __builtin_prefetch(p->residual + j * p->ld_residual);
    }
    return;
  }
  if (f & fc::kTileWrapped) return;
  for (size_t r = 0; r < m; ++r) {
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + n - 1, 1);
    if (residual) {
      __builtin_prefetch(p->residual + r * p->ld_residual);
      __builtin_prefetch(p->residual + r * p->ld_residual + n - 1);
    }
  }
}

// Where A's column k comes from, one step at a time: a packed panel (MA floats per k step)
// or, for the transposed implicit convolution, MR row pointers into the input read in
// place at off[k] (conv-implicit-t.cc). Rows past m point at a real row (never read out of
// bounds; their results are not stored).
template <int MA>
struct PanelA {
  const float* a;
  float at(int r) const { return a[r]; }
  void next() { a += MA; }
};
// No software prefetch here: asking for one row a step in turn (rows[turn], a variable index)
// kept the row pointers in memory and in vector registers, moved to general ones every step;
// without it the transposed implicit convolution runs 1.05-1.2x faster on one thread, also on
// VGG's 224x224 layer whose input is far beyond L2 (in one process, alternating).
template <int MR>
struct OffsetA {
  const float* rows[MR];
  const ptrdiff_t* off;
  float at(int r) const { return rows[r][*off]; }
  void next() { ++off; }
};

// Where row k of B starts: a packed panel (rows Stride floats apart) or, for the implicit
// convolution, the padded input itself at off[k] (conv-implicit.cc). A packed panel streamed
// from L2 (GemmLoopOrder::rows_outer) is asked for Ahead rows in advance (0: it stays in L1).
template <int Stride, int Ahead = 0>
struct PanelRows {
  const float* b;
  const float* operator()(size_t k) const { return b + k * Stride; }
};
struct OffsetRows {
  const float* b;
  const ptrdiff_t* off;
  const float* operator()(size_t k) const { return b + off[k]; }
};
// Rows read in place are scattered over the input (one per channel and tap: ~100 streams
// per tile, more than the hardware prefetchers follow), so each k step asks for its row's
// data 128 floats (four 32-column tiles) ahead: 1.1-1.15x on a 224x224 64-channel layer
// whose padded input is far beyond L2, neutral where it fits (bench/RESULTS.md).
template <class Rows>
inline void prefetch_ahead(const Rows&, const float*) {}
inline void prefetch_ahead(const OffsetRows&, const float* row) { __builtin_prefetch(row + 128); }
template <int Stride, int Ahead>
inline void prefetch_ahead(const PanelRows<Stride, Ahead>&, const float* row) {
  if constexpr (Ahead > 0) __builtin_prefetch(row + Ahead * Stride);
}

// A tile whose columns wrap (kTileWrapped): column j is position wrap_col + j of rows
// wrap_width apart, of which the first wrap_valid are stored, rows wrap_valid apart in c.
// Each vector's lanes are stored straight from its register, one masked store per run of
// stored columns within it (going through the stack instead stalled on store forwarding:
// 20% of a layer with K = 144). Row and vector loops run to constants (breaking at m, n)
// so the accumulators stay in registers.
template <class V, int MR, int NV>
inline void store_tile_wrapped(typename V::reg (&acc)[MR][NV], size_t m, size_t n, float* c, ptrdiff_t ldc,
                               const fc::GemmTileParams* p) {
  constexpr int W = V::W;
  const uint32_t f = p->flags;
  const ptrdiff_t width = static_cast<ptrdiff_t>(p->wrap_width), valid = static_cast<ptrdiff_t>(p->wrap_valid);
  ptrdiff_t col = static_cast<ptrdiff_t>(p->wrap_col), row = 0;  // of the next lane; row: its row's offset in c
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const ptrdiff_t left = static_cast<ptrdiff_t>(n) - v * W;
    if (left <= 0) break;
    const int lanes = left >= W ? W : static_cast<int>(left);
    for (int lo = 0; lo < lanes;) {
      const ptrdiff_t span = col < valid ? valid - col : width - col;  // stored, or dropped, columns left in the row
      const int run = span < lanes - lo ? static_cast<int>(span) : lanes - lo;
      if (col < valid) {  // lanes [lo, lo + run) land at row + col ...
        const ptrdiff_t at = row + col - lo;  // where lane 0 would
#pragma GCC unroll 32
        for (int r = 0; r < MR; ++r) {
          if (r >= static_cast<int>(m)) break;
          const typename V::reg bias = (f & fc::kTileBiasRow) ? V::set1(p->bias[r]) : V::set1(0.f);
          const float* res = (f & fc::kTileResidual) ? p->residual + r * p->ld_residual + at : nullptr;
          store_lanes<V>(acc[r][v], c + r * ldc + at, lo, lo + run, bias, res, p);
        }
      }
      lo += run;
      col += run;
      if (col == width) col = 0, row += valid;
    }
  }
}

// NV vectors of the NB-vector-wide B panel are computed (NV < NB: an edge panel); MR rows
// of A (fewer than its panel has: an edge tile of m <= MR rows). A's columns come from
// `a` (PanelA or OffsetA), B's rows from `rows` (PanelRows or OffsetRows above).
template <class V, int MR, int NV, class Cols, class Rows>
inline void tile(size_t m, size_t n, size_t kc, Cols a, Rows rows, float* c, ptrdiff_t ldc,
                 const fc::GemmTileParams* p) {
  // An edge panel whose columns fit in fewer vectors runs the narrower tile: the
  // unused vectors would cost full FMAs (N = 196 as 32-wide panels ends in 4 columns).
  if constexpr (NV > 1) {
    if (n <= static_cast<size_t>((NV - 1) * V::W)) return tile<V, MR, NV - 1>(m, n, kc, a, rows, c, ldc, p);
  }
  // Likewise an edge tile of few rows (49 output positions as rows end in one).
  if constexpr (MR > 1) {
    if (m <= static_cast<size_t>(MR / 2)) return tile<V, MR / 2, NV>(m, n, kc, a, rows, c, ldc, p);
  }
  using reg = typename V::reg;
  constexpr int W = V::W;
  reg acc[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V::set1(0.f);

  prefetch_tile<MR, NV * W>(m, n, c, ldc, p);
  const float* next = p->prefetch;
  const size_t next_step = p->prefetch_step;
  // Two copies of the k loop, with and without asking for the next weight panel (GCC kept
  // the test of `next` inside one loop: three instructions a k step in every tile).
  auto k_loop = [&](auto ask_next) {
    for (size_t k = 0; k < kc; ++k) {
      const float* b = rows(k);
      prefetch_ahead(rows, b);
      if constexpr (decltype(ask_next)::value) {
        for (size_t line = 0; line < next_step; line += 16) __builtin_prefetch(next + k * next_step + line);
      }
      reg bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 32
      for (int r = 0; r < MR; ++r) {
        const reg ar = V::set1(a.at(r));
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(ar, bv[v], acc[r][v]);
      }
      a.next();
    }
  };
  if (next)
    k_loop(std::true_type{});
  else
    k_loop(std::false_type{});

  // Store phase: branches here are per tile, not per k step.
  const uint32_t f = p->flags;
  if (f & fc::kTileTransposed) return store_tile_transposed<V, MR, NV>(acc, m, n, c, ldc, p);
  if (f & fc::kTileWrapped) return store_tile_wrapped<V, MR, NV>(acc, m, n, c, ldc, p);
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
    if (static_cast<size_t>(r) >= m) break;
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const ptrdiff_t left = static_cast<ptrdiff_t>(n) - v * W;
      if (left <= 0) break;
      const bool full = left >= W;
      const int lanes = full ? W : static_cast<int>(left);
      reg bias = V::set1(0.f);
      if (f & fc::kTileBiasRow) bias = V::set1(p->bias[r]);
      if (f & fc::kTileBiasCol) bias = full ? V::load(p->bias + v * W) : V::load_n(p->bias + v * W, lanes);
      const float* res = (f & fc::kTileResidual) ? p->residual + r * p->ld_residual + v * W : nullptr;
      store_lanes<V>(acc[r][v], cr + v * W, 0, lanes, bias, res, p);
    }
  }
}

// The packed micro-kernel (b: kc rows of an NV-vector panel, prefetched BAhead rows ahead).
template <class V, int MR, int NV, int BAhead = 0>
inline void gemm_tile(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c, ptrdiff_t ldc,
                      const fc::GemmTileParams* p) {
  tile<V, MR, NV>(m, n, kc, PanelA<MR>{a}, PanelRows<NV * V::W, BAhead>{b}, c, ldc, p);
}

// The implicit micro-kernel (row k of b at b + off[k], read in place).
template <class V, int MR, int NV>
inline void igemm_tile(size_t m, size_t n, size_t kc, const float* a, const float* b, const ptrdiff_t* off, float* c,
                       ptrdiff_t ldc, const fc::GemmTileParams* p) {
  tile<V, MR, NV>(m, n, kc, PanelA<MR>{a}, OffsetRows{b, off}, c, ldc, p);
}

// The implicit-A micro-kernel (row r of A at a[r] + aoff[k], read in place; B packed).
template <class V, int MR, int NV, int BAhead = 0>
inline void igemm_a_tile(size_t m, size_t n, size_t kc, const float* const* a, const ptrdiff_t* aoff, const float* b,
                         float* c, ptrdiff_t ldc, const fc::GemmTileParams* p) {
  OffsetA<MR> cols;
  for (int r = 0; r < MR; ++r) cols.rows[r] = a[r];
  cols.off = aoff;
  tile<V, MR, NV>(m, n, kc, cols, PanelRows<NV * V::W, BAhead>{b}, c, ldc, p);
}

// The B-panel packer (pack_b_rows_fn): NV vectors per k step, the edge panel's last ones
// masked and zero-filled (a memcpy per 64-byte row was 40% of a 64 x 3136 x 576 GEMM on
// Zen 3: the call, not the copy).
template <class V, int NV>
inline void pack_b_rows(const float* b, size_t ldb, size_t n, size_t kc, float* dst) {
  constexpr int W = V::W, NR = NV * W;
  if (n == NR) {
    for (size_t k = 0; k < kc; ++k, b += ldb, dst += NR)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) V::store(dst + v * W, V::load(b + v * W));
    return;
  }
  for (size_t k = 0; k < kc; ++k, b += ldb, dst += NR)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const int left = static_cast<int>(n) - v * W;
      V::store(dst + v * W, left >= W ? V::load(b + v * W) : left > 0 ? V::load_n(b + v * W, left) : V::set1(0.f));
    }
}

// The A-panel packer (pack_a_rows_fn): where V can transpose 8 rows of 16 floats in registers
// and MR <= 8, 16 k at a time through it (a strided scalar scatter was 10% of a 256^3 GEMM);
// where it can transpose 8 x 8 and MR <= 8, 8 k at a time (rows past m zero; each column's
// 8 floats stored whole, the 8 - MR extra overwritten by the next column's store, the last
// one's masked); otherwise element by element, each row read sequentially.
template <class V, int MR>
inline void pack_a_rows(const float* a, size_t lda, size_t m, size_t kc, float* dst) {
  size_t k0 = 0;
  if constexpr (MR <= 8 && has_transpose_8x16<V>::value) {
    constexpr size_t W = V::W;
    for (; k0 + W <= kc; k0 += W) {
      typename V::reg rows[8];
      for (size_t r = 0; r < 8; ++r) rows[r] = r < m && r < MR ? V::load(a + r * lda + k0) : V::set1(0.f);
      // Column pairs stored MR lanes each (with MR < 8, whole 8-float columns ld = MR apart
      // would overwrite columns stored before them).
      typename V::reg pairs[8];
      V::transpose_8x16_pairs(rows, pairs);
      for (int q = 0; q < 8; ++q) {
        const size_t jl = k0 + (q < 4 ? q : q + 4);  // its two columns: jl and jl + 4
        V::store_halves(dst + jl * MR, dst + (jl + 4) * MR, pairs[q], MR);
      }
    }
  } else if constexpr (MR <= 8 && V::W == 8 && has_transpose_8x8<V>::value) {
    for (; k0 + 8 <= kc; k0 += 8) {
      typename V::reg rows[8];
      for (size_t r = 0; r < 8; ++r) rows[r] = r < m && r < MR ? V::load(a + r * lda + k0) : V::set1(0.f);
      V::transpose_8x8(rows);
      float* d = dst + k0 * MR;
      for (int j = 0; j < 7; ++j) V::store(d + j * MR, rows[j]);
      V::store_n(d + 7 * MR, rows[7], MR);
    }
  }
  for (size_t r = 0; r < MR; ++r) {
    const float* src = a + r * lda;
    for (size_t k = k0; k < kc; ++k) dst[k * MR + r] = r < m ? src[k] : 0.f;
  }
}

// The GEMM micro-kernel contract, shared by every ISA's kernel file.
//
// A micro-kernel computes one MR x NR tile: c[r][j] (op)= sum_k a[k][r] * b[k][j] over kc,
// a packed as kc rows of MR floats, b as kc rows of NR floats (zero-padded panels).
// Only the first m rows and n columns (m <= MR, n <= NR) of c are read or written.
// On the last k block it applies the epilogue in registers:
//   c = clamp(leaky(acc + bias + residual), lo, hi)
// With kTileTransposed, c and residual hold the tile transposed: element (r, j) lives at
// c[j * ldc + r] (a convolution computed with output positions as rows, conv-gemm.cc).
#pragma once
#include <cstddef>
#include <cstdint>

namespace fc {

enum GemmTileFlags : uint32_t {
  kTileAccumulate = 1u << 0,  // add to the values already in c (k blocks after the first)
  kTileFinal = 1u << 1,       // last k block: apply bias, residual, leaky, clamp
  kTileBiasRow = 1u << 2,     // bias[r] added to row r
  kTileBiasCol = 1u << 3,     // bias[j] added to column j
  kTileResidual = 1u << 4,    // residual[r * ld_residual + j] added
  kTileLeaky = 1u << 5,       // x < 0 ? leaky * x : x
  kTileClamp = 1u << 6,       // min(max(x, lo), hi)
  kTileTransposed = 1u << 7,  // c and residual are column-major (see above)
  kTileWrapped = 1u << 8,     // columns wrap at wrap_width, only the first wrap_valid stored (below)
};

struct GemmTileParams {
  uint32_t flags;
  const float* bias;      // already offset to this tile's first row or column
  const float* residual;  // already offset to this tile's first element
  ptrdiff_t ld_residual;
  float lo, hi, leaky;
  // kTileWrapped (the implicit convolution's output positions, row by row with garbage
  // columns between rows): column j of the tile is column wrap_col + j of rows wrap_width
  // apart; columns < wrap_valid of each row are stored, rows wrap_valid apart in c, and c
  // (and residual) point at the start of the row of column 0.
  size_t wrap_col, wrap_width, wrap_valid;
  // The next panel of a streamed operand (weights read once from memory), asked for while
  // this tile runs, prefetch_step floats per k step; null: nothing to ask for.
  const float* prefetch;
  size_t prefetch_step;
};

using gemm_ukernel_fn = void (*)(size_t m, size_t n, size_t kc, const float* a, const float* b, float* c,
                                 ptrdiff_t ldc, const GemmTileParams* params);

// The implicit micro-kernel: the same tile, with row k of b at b + boff[k] (read in place,
// not packed; any alignment).
using igemm_ukernel_fn = void (*)(size_t m, size_t n, size_t kc, const float* a, const float* b,
                                  const ptrdiff_t* boff, float* c, ptrdiff_t ldc, const GemmTileParams* params);

// Packs one panel of a row-major A: dst[k * MR + r] = a[r * lda + k] for r < m (<= MR), k < kc,
// and 0 for rows m..MR-1: the layout the micro-kernel of the same MR broadcasts from.
using pack_a_rows_fn = void (*)(const float* a, size_t lda, size_t m, size_t kc, float* dst);

// Packs one panel of a row-major B: dst[k * NR + j] = b[k * ldb + j] for j < n (<= NR), k < kc,
// and 0 for columns n..NR-1: the layout the micro-kernel of the same NR loads from.
using pack_b_rows_fn = void (*)(const float* b, size_t ldb, size_t n, size_t kc, float* dst);

void f32_pack_a_rows_6__scalar(const float*, size_t, size_t, size_t, float*);
void f32_pack_a_rows_6__avx2(const float*, size_t, size_t, size_t, float*);
void f32_pack_a_rows_8__avx512f(const float*, size_t, size_t, size_t, float*);
void f32_pack_a_rows_7__avx512f(const float*, size_t, size_t, size_t, float*);
void f32_pack_b_rows_8__scalar(const float*, size_t, size_t, size_t, float*);
void f32_pack_b_rows_16__avx2(const float*, size_t, size_t, size_t, float*);
void f32_pack_b_rows_32__avx512f(const float*, size_t, size_t, size_t, float*);

// Rows of the tallest tile (every ISA's MR is at most this).
constexpr int kMaxTileRows = 8;

// The implicit-A micro-kernel: row r (< MR) of A at a[r] + aoff[k] (read in place: the
// transposed implicit convolution's output positions), B packed as for the packed kernel.
using igemm_a_ukernel_fn = void (*)(size_t m, size_t n, size_t kc, const float* const* a, const ptrdiff_t* aoff,
                                    const float* b, float* c, ptrdiff_t ldc, const GemmTileParams* params);

void f32_gemm_ukernel_6x8__scalar(size_t, size_t, size_t, const float*, const float*, float*, ptrdiff_t,
                                  const GemmTileParams*);
void f32_gemm_ukernel_6x16__avx2(size_t, size_t, size_t, const float*, const float*, float*, ptrdiff_t,
                                 const GemmTileParams*);
void f32_gemm_ukernel_8x32__avx512f(size_t, size_t, size_t, const float*, const float*, float*, ptrdiff_t,
                                    const GemmTileParams*);
void f32_gemm_ukernel_7x32__avx512f(size_t, size_t, size_t, const float*, const float*, float*, ptrdiff_t,
                                    const GemmTileParams*);

void f32_igemm_ukernel_6x8__scalar(size_t, size_t, size_t, const float*, const float*, const ptrdiff_t*, float*,
                                   ptrdiff_t, const GemmTileParams*);
void f32_igemm_ukernel_6x16__avx2(size_t, size_t, size_t, const float*, const float*, const ptrdiff_t*, float*,
                                  ptrdiff_t, const GemmTileParams*);
void f32_igemm_ukernel_8x32__avx512f(size_t, size_t, size_t, const float*, const float*, const ptrdiff_t*, float*,
                                     ptrdiff_t, const GemmTileParams*);

void f32_igemm_a_ukernel_6x8__scalar(size_t, size_t, size_t, const float* const*, const ptrdiff_t*, const float*,
                                     float*, ptrdiff_t, const GemmTileParams*);
void f32_igemm_a_ukernel_6x16__avx2(size_t, size_t, size_t, const float* const*, const ptrdiff_t*, const float*,
                                    float*, ptrdiff_t, const GemmTileParams*);
void f32_igemm_a_ukernel_8x32__avx512f(size_t, size_t, size_t, const float* const*, const ptrdiff_t*, const float*,
                                       float*, ptrdiff_t, const GemmTileParams*);
void f32_igemm_a_ukernel_7x32__avx512f(size_t, size_t, size_t, const float* const*, const ptrdiff_t*, const float*,
                                       float*, ptrdiff_t, const GemmTileParams*);

}  // namespace fc

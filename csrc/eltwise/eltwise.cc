#include "common/isa.h"
#include "eltwise/eltwise.h"
#include "common/parallel.h"

#include <algorithm>
#include <vector>

namespace fc {
namespace {

struct EltwiseKernels {
  vaffine_fn affine;
  vaffine_v_fn affine_v;
  vaffine_rows_fn affine_rows;
  vbinary_fn binary;
};

EltwiseKernels kernels(Isa isa) {
  return {FC_KERNEL_FOR_ISA(isa, f32_vaffine), FC_KERNEL_FOR_ISA(isa, f32_vaffine_v),
          FC_KERNEL_FOR_ISA(isa, f32_vaffine_rows), FC_KERNEL_FOR_ISA(isa, f32_vbinary)};
}

// Work is cut into pieces of at least kMinTaskFloats (a few pages) so that per-piece
// overhead stays small, and at most as large as needed to give every thread several pieces.
size_t piece_len(size_t total, size_t pieces_wanted) {
  size_t len = (total + pieces_wanted - 1) / pieces_wanted;
  len = len < kMinTaskFloats ? kMinTaskFloats : len;
  return (len + 63) / 64 * 64;  // whole cache lines
}

}  // namespace

void channel_affine(const float* x, float* y, size_t n, size_t c, size_t hw, const float* scale, const float* shift,
                    const Activation& act, const float* slope, int nthreads, Isa isa) {
  const EltwiseKernels k = kernels(isa);
  if (hw == 1 && !slope) {  // (N, C): one vector op per row with the per-channel arrays
    std::vector<float> ones, zeros;
    if (!scale) ones.assign(c, 1.f), scale = ones.data();
    if (!shift) zeros.assign(c, 0.f), shift = zeros.data();
    const ptrdiff_t rows = static_cast<ptrdiff_t>(n);
    parallel_for(static_cast<size_t>(rows), (rows * c > kMinTaskFloats && nthreads > 1) ? nthreads : 1, [&](size_t task) {
      const ptrdiff_t i = static_cast<ptrdiff_t>(task);
      k.affine_v(x + i * c, y + i * c, c, scale, shift, act);
    });
    return;
  }
  // Pieces: whole planes when there are enough of them (parallel_for_items runs small ones
  // several to a task), else planes cut along hw.
  const size_t planes = n * c, nt = static_cast<size_t>(nthreads > 1 ? nthreads : 1);
  const size_t chunk = planes >= 4 * nt ? hw : piece_len(hw, (4 * nt + planes - 1) / planes);
  const size_t per_plane = (hw + chunk - 1) / chunk;
  parallel_for_items(planes * per_plane, chunk, nthreads, [&](size_t it) {
    const size_t plane = it / per_plane, ch = plane % c, start = (it % per_plane) * chunk;
    const size_t len = hw - start < chunk ? hw - start : chunk;
    Activation a = act;
    if (slope) a = Activation{ActKind::leaky_relu, slope[ch], 0.f};
    k.affine(x + plane * hw + start, y + plane * hw + start, len, scale ? scale[ch] : 1.f, shift ? shift[ch] : 0.f, a);
  });
}

void channel_affine_blocked(const float* x, float* y, size_t n, size_t blocks, size_t hw, size_t lanes,
                            const float* scale, const float* shift, const Activation& act, int nthreads, Isa isa) {
  const EltwiseKernels k = kernels(isa);
  // Pieces of whole positions, as in channel_affine: whole planes when there are enough.
  const size_t planes = n * blocks, nt = static_cast<size_t>(nthreads > 1 ? nthreads : 1);
  const size_t chunk = planes >= 4 * nt ? hw : std::max<size_t>(1, piece_len(hw * lanes, (4 * nt + planes - 1) / planes) / lanes);
  const size_t per_plane = (hw + chunk - 1) / chunk;
  parallel_for_items(planes * per_plane, chunk * lanes, nthreads, [&](size_t it) {
    const size_t plane = it / per_plane, block = plane % blocks, start = (it % per_plane) * chunk;
    const size_t len = hw - start < chunk ? hw - start : chunk, at = (plane * hw + start) * lanes;
    k.affine_rows(x + at, y + at, len, lanes, scale + block * lanes, shift + block * lanes, act);
  });
}

void binary(BinaryOp op, const float* a, const float* b, float* y, size_t count, const Activation& act, int nthreads,
            Isa isa) {
  const vbinary_fn f = kernels(isa).binary;
  const size_t chunk = piece_len(count, 4 * static_cast<size_t>(nthreads));
  const ptrdiff_t items = static_cast<ptrdiff_t>((count + chunk - 1) / chunk);
  parallel_for(static_cast<size_t>(items), (items > 1 && nthreads > 1) ? nthreads : 1, [&](size_t task) {
    const ptrdiff_t it = static_cast<ptrdiff_t>(task);
    const size_t start = it * chunk, len = count - start < chunk ? count - start : chunk;
    f(op, a + start, b + start, y + start, len, act);
  });
}

}  // namespace fc

#include <algorithm>

#include "common/isa.h"
#include "common/check.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "conv/convc-kernels.h"
#include "norm/norm-kernels.h"
#include "norm/norm.h"

namespace fc {
namespace {

softmax_fn softmax_kernel(Isa isa) {
  return FC_KERNEL_FOR_ISA(isa, f32_softmax);
}

lrn_fn lrn_kernel(Isa isa) {
  return FC_KERNEL_FOR_ISA(isa, f32_lrn);
}

// Columns of one LRN piece: whole planes unless a plane is large (keeps the window's
// `size` input rows of one piece in L1/L2 while the output is written).
constexpr size_t kLrnPiece = 4096;

}  // namespace

void softmax(const float* x, float* y, size_t outer, size_t len, size_t inner, bool log, int nthreads, Isa isa) {
  FC_CHECK(len >= 1, "softmax over an empty axis");
  const softmax_fn f = softmax_kernel(isa);
  const ptrdiff_t slices = static_cast<ptrdiff_t>(outer);
  parallel_for(static_cast<size_t>(slices), (slices > 1 && slices * len * inner > 16384 && nthreads > 1) ? nthreads : 1, [&](size_t task) {
    const ptrdiff_t i = static_cast<ptrdiff_t>(task);
    f(x + i * len * inner, y + i * len * inner, len, inner, log);
  });
}

void lrn_blocked(const float* x, float* y, size_t n, size_t blocks, size_t hw, size_t size, float alpha, float beta,
                 float bias, int nthreads, Isa isa) {
  FC_CHECK(size >= 1, "LRN size must be >= 1, got ", size);
  const lrn_blocked_fn f = FC_KERNEL_FOR_ISA(isa, f32_lrn_blocked);
  const size_t c = blocks * kChannelBlock, image = c * hw;
  // Pieces of positions, each about kMinTaskFloats of input.
  const size_t per = std::max<size_t>(1, kMinTaskFloats / std::max<size_t>(c, 1)), pieces = (hw + per - 1) / per;
  parallel_for_items(n * pieces, per * c, nthreads, [&](size_t item) {
    const size_t b = item / pieces, p0 = item % pieces * per;
    LrnBlockedArgs a;
    a.x = x + b * image;
    a.y = y + b * image;
    a.blocks = blocks;
    a.hw = hw;
    a.p0 = p0;
    a.p1 = std::min(hw, p0 + per);
    a.before = (size - 1) / 2;  // ONNX: floor((size - 1) / 2) channels before, ceil after
    a.size = size;
    a.sq = thread_scratch(kScratchOp0, kLrnGroup * (c + size - 1));
    a.bias = bias;
    a.alpha_over_size = alpha / static_cast<float>(size);
    a.beta = beta;
    f(a);
  });
}

void lrn(const float* x, float* y, size_t n, size_t c, size_t hw, size_t size, float alpha, float beta, float bias,
         int nthreads, Isa isa) {
  FC_CHECK(size >= 1, "LRN size must be >= 1, got ", size);
  const lrn_fn f = lrn_kernel(isa);
  const size_t before = (size - 1) / 2, after = size - 1 - before;  // ONNX: floor / ceil of (size - 1) / 2
  const size_t pieces = (hw + kLrnPiece - 1) / kLrnPiece;
  const ptrdiff_t items = static_cast<ptrdiff_t>(n * c * pieces);
  parallel_for(static_cast<size_t>(items), (items > 1 && nthreads > 1) ? nthreads : 1, [&](size_t task) {
    const ptrdiff_t it = static_cast<ptrdiff_t>(task);
    const size_t piece = it % pieces, plane = it / pieces, b = plane / c, ch = plane % c;
    LrnArgs a;
    a.x = x + b * c * hw;
    a.y = y + b * c * hw;
    a.channels = c;
    a.hw = hw;
    a.channel = ch;
    a.i0 = piece * kLrnPiece;
    a.i1 = a.i0 + kLrnPiece < hw ? a.i0 + kLrnPiece : hw;
    a.lo = ch >= before ? ch - before : 0;
    a.hi = ch + after < c ? ch + after : c - 1;
    a.bias = bias;
    a.alpha_over_size = alpha / static_cast<float>(size);
    a.beta = beta;
    f(a);
  });
}

}  // namespace fc

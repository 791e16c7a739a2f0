// Copies between NCHW and the channel-blocked layout (convc-kernels.h), one task per block of
// 16 channels of one image; the per-ISA block copies are reorder-block.h.
#include <algorithm>

#include "common/check.h"
#include "common/isa.h"
#include "common/parallel.h"
#include "conv/convc-kernels.h"

namespace fc {

namespace {

template <bool ToBlocked>
void reorder(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image, int nthreads,
             Isa isa) {
  constexpr size_t B = kChannelBlock;
  const size_t cb = blocked_channels(c);
  FC_CHECK(x_image >= (ToBlocked ? c : cb) * hw && y_image >= (ToBlocked ? cb : c) * hw, "images overlap: ", x_image,
           " and ", y_image, " floats apart for ", c, " channels of ", hw, " positions");
  const ReorderKernels& k = FC_KERNEL_FOR_ISA(isa, f32_reorder_kernels)();
  const reorder_block_fn copy = ToBlocked ? k.to_blocked : k.from_blocked;
  const size_t blocks = cb / B;
  parallel_for_items(n * blocks, B * hw, nthreads, [&](size_t i) {
    const size_t b = i / blocks, blk = i % blocks, lanes = std::min(B, c - blk * B);
    copy(x + b * x_image + blk * B * hw, y + b * y_image + blk * B * hw, hw, hw, lanes);
  });
}

}  // namespace

void nchw_to_blocked(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image,
                     int nthreads, Isa isa) {
  reorder<true>(x, n, c, hw, x_image, y, y_image, nthreads, isa);
}

void blocked_to_nchw(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image,
                     int nthreads, Isa isa) {
  reorder<false>(x, n, c, hw, x_image, y, y_image, nthreads, isa);
}

void blocked_to_nchw_positions(const float* x, size_t c, size_t hw, size_t p0, size_t p1, float* y, Isa isa) {
  constexpr size_t B = kChannelBlock;
  const reorder_block_fn copy = FC_KERNEL_FOR_ISA(isa, f32_reorder_kernels)().from_blocked;
  for (size_t blk = 0; blk * B < c; ++blk)
    copy(x + (blk * hw + p0) * B, y + blk * B * hw + p0, p1 - p0, hw, std::min(B, c - blk * B));
}

}  // namespace fc

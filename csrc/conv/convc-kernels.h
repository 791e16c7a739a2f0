// Direct convolution on channel-blocked tensors (NCHW16c): the micro-kernel contract and the
// per-ISA tables of its instances.
//
// A blocked tensor holds image b, channel c, position (i, j) at
//   ((b * C / 16 + c / 16) * H * W + i * W + j) * 16 + c % 16,
// C a multiple of 16. Each image has the size and the channel-block offsets of NCHW (a slice
// of whole blocks starts at channel * H * W floats, as in NCHW), so buffers and Concat parts
// planned for NCHW fit blocked tensors unchanged.
#pragma once
#include <cstddef>

#include "common/isa.h"
#include "gemm/gemm-ukernel.h"

namespace fc {

constexpr size_t kChannelBlock = 16;

// Channels of a blocked tensor holding c: whole blocks. A layer whose output channels fill no
// whole block (a 1000-class classifier) writes padding lanes from zero weights and bias; only
// consumers told the real count (global pooling) read such a tensor.
constexpr size_t blocked_channels(size_t c) { return (c + kChannelBlock - 1) / kChannelBlock * kChannelBlock; }

// One tile: RP output positions x CB blocks of 16 output channels, accumulated in registers
// over every input block and every tap of a rectangle of taps, then stored through the GEMM
// tile epilogue (bias, residual, leaky, clamp). With no taps it stores the epilogue of zero.
// The input is blocked, or NCHW (a first layer's 3 channels): then each channel is a block of
// one lane (L = 1 below, 16 for blocked input); the weights are the same either way.
struct ConvcTileArgs {
  const float* x;          // input, block 0, at the first tap of position 0; positions
                           // L * S floats apart (S the instance's stride)
  ptrdiff_t x_block;       // floats between input blocks (H * W * L)
  size_t in_blocks;        // C / L
  size_t taps_h, taps_w;   // the rectangle of taps every position of the tile reads in bounds
  ptrdiff_t x_tap_h, x_tap_w;  // floats between taps in the input
  const float* w;          // packed weights at the rectangle's first tap (ConvcWeights)
  ptrdiff_t w_tap_h, w_tap_w;  // floats between taps in the weights
  float* y;                // output, at block 0 of position 0; positions 16 floats apart
  ptrdiff_t y_block;       // floats between output blocks (OH * OW * 16)
  const float* residual;   // laid out as y, or null
  const float* bias;       // CB * 16 floats
  const GemmTileParams* epilogue;  // kTileFinal | kTileBiasRow, maybe kTileResidual, leaky, clamp
  const float* prefetch;   // tile_prefetch only: weights to ask for, as much as this tile reads
};

using convc_tile_fn = void (*)(const ConvcTileArgs& a);

// An ISA's instances: tile[in][s - 1][cb - 1][rp - 1] for input layout `in` (ConvcInput), positions s = 1 .. 4 columns apart in the
// input (a compile-time step: a variable one cost a register or a stack slot per position),
// cb <= 4 blocks, rp <= max_rp[cb - 1] positions; other strides run one position a tile.
// preferred_cb: blocks per output group (the last group of a layer takes what is left).
enum ConvcInput { kConvcBlockedInput = 0, kConvcNchwInput = 1, kConvcInputs = 2 };
constexpr int kConvcMaxStride = 4, kConvcMaxCB = 4, kConvcMaxRP = 16;
// tile_prefetch[in][s - 1][cb - 1]: the max_rp tile that also asks for `prefetch`, step by step
// (a model's weights come from memory: the first tile of an output group asks for the next
// group's while its FMAs run).
struct ConvcKernels {
  int preferred_cb;
  int max_rp[kConvcMaxCB];
  convc_tile_fn tile[kConvcInputs][kConvcMaxStride][kConvcMaxCB][kConvcMaxRP];
  convc_tile_fn tile_prefetch[kConvcInputs][kConvcMaxStride][kConvcMaxCB];
};

const ConvcKernels& f32_convc_kernels__scalar();
const ConvcKernels& f32_convc_kernels__avx2();
const ConvcKernels& f32_convc_kernels__avx512f();

// Channel-blocked copies: x (n, c, hw) <-> y (n, blocked_channels(c) / 16, hw, 16); the
// padding lanes of a last partial block are written as zeros (to blocked) or not read. Per
// image, src and dst images `image` floats apart (a Concat's part). isa: whose copies run (a
// plan's own level inside its run, the active one at a graph's edges).
void nchw_to_blocked(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image,
                     int nthreads, Isa isa);
void blocked_to_nchw(const float* x, size_t n, size_t c, size_t hw, size_t x_image, float* y, size_t y_image,
                     int nthreads, Isa isa);

// Positions [p0, p1) of one blocked image x (c channels, planes of hw) into NCHW y, on
// the calling thread (the direct convolution copies each task's part while it is in cache).
void blocked_to_nchw_positions(const float* x, size_t c, size_t hw, size_t p0, size_t p1, float* y, Isa isa);

// One block of one image (reorder-block.h): the first `count` positions of `lanes` <= 16
// planes `stride` floats apart <-> count x 16.
using reorder_block_fn = void (*)(const float* src, float* dst, size_t count, size_t stride, size_t lanes);
struct ReorderKernels {
  reorder_block_fn to_blocked, from_blocked;
};
const ReorderKernels& f32_reorder_kernels__scalar();
const ReorderKernels& f32_reorder_kernels__avx2();
const ReorderKernels& f32_reorder_kernels__avx512f();

}  // namespace fc

// Winograd F(m x m, 3x3) transforms on channel-blocked tensors (conv/convc-kernels.h): each
// tile's 16 channels are one row of 16 floats, so the transforms run lane-wise on whole
// channel vectors (no gathers) and read and write the blocked planes with plain vector
// loads and stores. Plain data and signatures; the templates are in winograd-blocked-tile.h.
#pragma once
#include <cstddef>

#include "gemm/gemm-ukernel.h"

namespace fc {

// Input transform of `tiles` consecutive tiles of one tile row, one channel block:
// tile u reads rows iy0 .. iy0 + alpha - 1, columns ix0 + u * m .. + alpha - 1 of the
// block's h x w x 16 plane (zero outside it), and writes its alpha^2 transformed vectors
// V[xi] at v + xi * v_xi + u * v_tile (16 floats each).
struct WinoBlockedInput {
  const float* x;
  size_t h, w;
  ptrdiff_t iy0, ix0;
  size_t tiles;
  float* v;
  size_t v_xi, v_tile;
};

// Output transform of `tiles` consecutive tiles of one tile row, one output block: tile u's
// alpha^2 vectors M[xi] at m + xi * m_xi + u * m_tile give its m x m outputs at rows oy0 ..,
// columns ox0 + u * m .. of the block's oh x ow x 16 plane y (cropped to the plane), through
// the GEMM tile epilogue (bias: 16 floats; residual: the same plane of the residual, or null).
struct WinoBlockedOutput {
  const float* m;
  size_t m_xi, m_tile;
  size_t tiles;
  float* y;
  const float* residual;
  const float* bias;
  size_t oh, ow, oy0, ox0;
  const GemmTileParams* epilogue;
};

using wino_blocked_input_fn = void (*)(const WinoBlockedInput& a);
using wino_blocked_output_fn = void (*)(const WinoBlockedOutput& a);

// An ISA's transforms, indexed by m (2, 3, 4 and 6 filled).
struct WinoBlockedKernels {
  wino_blocked_input_fn input[7];
  wino_blocked_output_fn output[7];
};

const WinoBlockedKernels& f32_winograd_blocked_kernels__scalar();
const WinoBlockedKernels& f32_winograd_blocked_kernels__avx2();
const WinoBlockedKernels& f32_winograd_blocked_kernels__avx512f();

}  // namespace fc

// Winograd F(m x m, 3x3) input and output transforms, one file per ISA
// (f32-winograd-<isa>.cc), each a pass over one channel and one row of tiles.
// Plain data only: safe to include from any kernel file.
#pragma once
#include <cstddef>

#include "act/act-params.h"

namespace fc {

// Input transform of `tiles` consecutive tiles of one tile row of one channel plane:
// tile u covers input rows iy0 .. iy0+alpha-1, columns ix0 + u*m .. + alpha-1 (zero
// outside the h x w plane: padding and the ragged right/bottom edge).
// Writes V[xi][u] = (BT d_u B)[xi] at v[xi * v_stride + u], xi = 0 .. alpha^2-1.
struct WinoInputArgs {
  const float* x;
  size_t h, w;
  ptrdiff_t iy0, ix0;
  size_t tiles;
  float* v;
  size_t v_stride;
};

// Output transform of `tiles` consecutive tiles of one tile row of one output channel:
// y = act(AT M_u A + bias + residual), written to the plane y (oh x ow) at rows oy0 ..
// oy0+m-1 and columns ox0 + u*m .., cropped to the plane. M_u[xi] = m[xi * m_stride + u].
struct WinoOutputArgs {
  const float* m;
  size_t m_stride;
  size_t tiles;
  float bias;
  const float* residual;  // oh x ow plane or null
  float* y;
  size_t oh, ow, oy0, ox0;
  Activation act;
};

using wino_input_fn = void (*)(const WinoInputArgs& a);
using wino_output_fn = void (*)(const WinoOutputArgs& a);

#define FC_WINO_DECLARE(isa)                                             \
  void f32_winograd_input_ukernel_2x2__##isa(const WinoInputArgs& a);    \
  void f32_winograd_input_ukernel_3x3__##isa(const WinoInputArgs& a);    \
  void f32_winograd_input_ukernel_4x4__##isa(const WinoInputArgs& a);    \
  void f32_winograd_input_ukernel_6x6__##isa(const WinoInputArgs& a);    \
  void f32_winograd_output_ukernel_2x2__##isa(const WinoOutputArgs& a);  \
  void f32_winograd_output_ukernel_3x3__##isa(const WinoOutputArgs& a);  \
  void f32_winograd_output_ukernel_4x4__##isa(const WinoOutputArgs& a);  \
  void f32_winograd_output_ukernel_6x6__##isa(const WinoOutputArgs& a);
FC_WINO_DECLARE(scalar)
FC_WINO_DECLARE(avx2)
FC_WINO_DECLARE(avx512f)
#undef FC_WINO_DECLARE

}  // namespace fc

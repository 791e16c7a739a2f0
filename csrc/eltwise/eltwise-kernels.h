// Element-wise kernels with a fused activation, one set per ISA (files f32-eltwise-<isa>.cc).
// They carry batch norm (an affine map per channel), prelu (a per-channel leaky relu),
// per-channel bias/scale and same-shape add/mul.
#pragma once
#include <cstddef>

#include "act/act-params.h"

namespace fc {

enum class BinaryOp : int { add = 0, mul = 1 };

// y[i] = act(x[i] * scale + shift); y may equal x.
using vaffine_fn = void (*)(const float* x, float* y, size_t n, float scale, float shift, const Activation& act);
// y[i] = act(x[i] * scale[i] + shift[i]).
using vaffine_v_fn = void (*)(const float* x, float* y, size_t n, const float* scale, const float* shift,
                              const Activation& act);
// y[r * lanes + l] = act(x[r * lanes + l] * scale[l] + shift[l]) for r < rows.
using vaffine_rows_fn = void (*)(const float* x, float* y, size_t rows, size_t lanes, const float* scale,
                                 const float* shift, const Activation& act);
// y[i] = act(a[i] op b[i]).
using vbinary_fn = void (*)(BinaryOp op, const float* a, const float* b, float* y, size_t n, const Activation& act);

#define FC_DECLARE_ELTWISE(isa)                                                                             \
  void f32_vaffine__##isa(const float* x, float* y, size_t n, float scale, float shift, const Activation& act); \
  void f32_vaffine_v__##isa(const float* x, float* y, size_t n, const float* scale, const float* shift,        \
                            const Activation& act);                                                          \
  void f32_vaffine_rows__##isa(const float* x, float* y, size_t rows, size_t lanes, const float* scale,         \
                               const float* shift, const Activation& act);                                    \
  void f32_vbinary__##isa(BinaryOp op, const float* a, const float* b, float* y, size_t n, const Activation& act);
FC_DECLARE_ELTWISE(scalar)
FC_DECLARE_ELTWISE(avx2)
FC_DECLARE_ELTWISE(avx512f)
#undef FC_DECLARE_ELTWISE

}  // namespace fc

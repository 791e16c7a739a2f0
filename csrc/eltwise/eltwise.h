// Element-wise layers on float32 tensors with a fused activation: per-channel affine
// (batch norm, bias/scale broadcast over (C, 1, 1)), prelu, same-shape add/mul.
#pragma once
#include <cstddef>

#include "act/act-params.h"
#include "common/isa.h"
#include "eltwise/eltwise-kernels.h"

namespace fc {

// x, y: (n, c, hw) with y = act_c(x * scale[c] + shift[c]); scale/shift null mean 1 / 0.
// slope non-null makes act_c a leaky relu with alpha = slope[c] (prelu), replacing act.
void channel_affine(const float* x, float* y, size_t n, size_t c, size_t hw, const float* scale, const float* shift,
                    const Activation& act, const float* slope, int nthreads, Isa isa);

// The same on channel-blocked tensors (n, blocks, hw, lanes): channel block * lanes + lane;
// scale/shift hold blocks * lanes values (padding lanes included), never null.
void channel_affine_blocked(const float* x, float* y, size_t n, size_t blocks, size_t hw, size_t lanes,
                            const float* scale, const float* shift, const Activation& act, int nthreads, Isa isa);

// y = act(a op b) over `count` floats.
void binary(BinaryOp op, const float* a, const float* b, float* y, size_t count, const Activation& act, int nthreads,
            Isa isa);

}  // namespace fc

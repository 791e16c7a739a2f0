// Softmax / log-softmax over an axis and LRN across channels, on float32 tensors.
#pragma once
#include <cstddef>

#include "common/isa.h"

namespace fc {

// x, y: (outer, len, inner), softmax along len. y must not alias x.
void softmax(const float* x, float* y, size_t outer, size_t len, size_t inner, bool log, int nthreads, Isa isa);

// ONNX LRN: x, y (n, c, hw); size >= 1 channels in the window, alpha divided by size.
void lrn(const float* x, float* y, size_t n, size_t c, size_t hw, size_t size, float alpha, float beta, float bias,
         int nthreads, Isa isa);

// The same on channel-blocked x, y (n, blocks, hw, 16), channel = block * 16 + lane; y may be x.
void lrn_blocked(const float* x, float* y, size_t n, size_t blocks, size_t hw, size_t size, float alpha, float beta,
                 float bias, int nthreads, Isa isa);

}  // namespace fc

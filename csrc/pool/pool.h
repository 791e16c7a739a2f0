// 2-D pooling and global pooling on NCHW float32: threads take (image, channel) planes.
#pragma once
#include <cstddef>

#include "common/isa.h"

namespace fc {

enum class PoolKind : int { max = 0, avg = 1 };

struct Pool2d {
  PoolKind kind = PoolKind::max;
  size_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  size_t pt = 0, pl = 0, pb = 0, pr = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;  // avg: padded taps count in the divisor

  // Output size along one axis (PyTorch/ONNX rule: with ceil_mode a window must still start
  // inside the input or its leading padding). Throws std::invalid_argument if none fits.
  static size_t out_size(size_t in, size_t k, size_t s, size_t d, size_t p0, size_t p1, bool ceil_mode);
  size_t out_h(size_t h) const { return out_size(h, kh, sh, dh, pt, pb, ceil_mode); }
  size_t out_w(size_t w) const { return out_size(w, kw, sw, dw, pl, pr, ceil_mode); }
};

// Checks the window (sizes >= 1, padding smaller than the window); throws std::invalid_argument.
void validate(const Pool2d& p);

// y (n, c, out_h(h), out_w(w)) = pooling of x (n, c, h, w); image b of y starts at y + b * y_image
// (y_image >= c * out_h * out_w: y may be a channel slice of a larger buffer).
void pool2d(const Pool2d& p, const float* x, size_t n, size_t c, size_t h, size_t w, float* y, size_t y_image,
            int nthreads, Isa isa);

// y[i] = mean or max of the hw floats of plane i, for planes = n * c.
void global_pool(PoolKind kind, const float* x, size_t planes, size_t hw, float* y, int nthreads, Isa isa);

// The same on channel-blocked tensors (conv/convc-kernels.h): x (n, c/16, h, w, 16), y (n,
// c/16, out_h, out_w, 16), images y_image floats apart. Average pooling: no dilation.
void pool2d_blocked(const Pool2d& p, const float* x, size_t n, size_t c, size_t h, size_t w, float* y,
                    size_t y_image, int nthreads, Isa isa);

// y (n, c) = mean or max over the hw positions of each channel of blocked x (n, ceil(c/16),
// hw, 16): the last block's lanes past c (blocked_channels' padding) are not read into y.
void global_pool_blocked(PoolKind kind, const float* x, size_t n, size_t c, size_t hw, float* y, int nthreads);

}  // namespace fc

// One convolution algorithm bound to one layer's weights: created once (weights packed or
// transformed there, or on first use: the plan that owns the algorithm keeps the layer's
// weights and bias alive with it), then run many times with pointers only.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "act/act-params.h"
#include "common/isa.h"
#include "conv/conv-params.h"

namespace fc {

// What every algorithm is built from: the layer, its weights (OIHW, K x C/g x R x S),
// optional bias (K), the fused activation, and the ISA whose kernels it uses.
struct ConvLayer {
  ConvParams p;
  const float* weight;
  const float* bias;  // may be null
  Activation act;
  Isa isa;
};

class ConvAlgorithm {
 public:
  virtual ~ConvAlgorithm() = default;
  virtual const char* name() const = 0;
  // y[n][K][OH][OW] = act(conv(x) + bias + residual); residual has y's shape or is null (and
  // is contiguous); image b of y starts at y + b * y_image (y_image >= K * OH * OW).
  // Shapes were validated by the plan; this only computes.
  virtual void run(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image, const float* residual,
                   int nthreads) const = 0;
};

// im2col + packed GEMM: the im2col matrix is formed while packing B. Any layer.
// transposed: the same product with output positions as rows (the im2col matrix packed
// as A, the weights as B), for outputs with few positions.
std::unique_ptr<ConvAlgorithm> make_im2col_conv(const ConvLayer& layer, bool transposed);
// Implicit GEMM: the micro-kernel reads im2col rows in place from a padded (phase-split
// when strided) copy of the input; nothing is packed per image but that copy. Any layer.
std::unique_ptr<ConvAlgorithm> make_implicit_conv(const ConvLayer& layer);
// Transposed implicit GEMM: output positions as rows, read in place from a padded
// channels-last copy of the input; the weights are the packed operand. Any layer.
std::unique_ptr<ConvAlgorithm> make_implicit_t_conv(const ConvLayer& layer);
// Packed GEMM on the input itself, no im2col: 1x1, stride 1, unpadded layers.
std::unique_ptr<ConvAlgorithm> make_pointwise_conv(const ConvLayer& layer, bool transposed);
// Direct depthwise kernel (groups == in_channels, any channel multiplier).
std::unique_ptr<ConvAlgorithm> make_depthwise_conv(const ConvLayer& layer);
// Direct convolution: the blocked direct kernel on the NCHW input, its blocked output copied
// to NCHW (conv-direct.cc). Groups 1; any kernel, stride, dilation and padding.
std::unique_ptr<ConvAlgorithm> make_direct_conv(const ConvLayer& layer);
// Winograd F(m x m, 3x3), m in {2, 3, 4, 6}: 3x3, stride 1, dilation 1, groups 1 (conv-winograd.cc).
std::unique_ptr<ConvAlgorithm> make_winograd_conv(const ConvLayer& layer, int m);

}  // namespace fc

// The shape of one 2-D convolution (NCHW input, OIHW weights).
#pragma once
#include <cstddef>
#include <string>

namespace fc {

struct ConvParams {
  size_t out_channels = 0, in_channels = 0;  // in_channels is the full C of the input
  size_t kernel_h = 1, kernel_w = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  size_t groups = 1;

  size_t group_in() const { return in_channels / groups; }    // C per group
  size_t group_out() const { return out_channels / groups; }  // K per group
  size_t gemm_depth() const { return group_in() * kernel_h * kernel_w; }
  bool is_depthwise() const { return groups == in_channels && groups > 1 && group_in() == 1; }
  bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
           pad_bottom == 0 && pad_right == 0;
  }
  // Throws std::invalid_argument unless every field is consistent.
  void validate() const;
  // Output size for an input of h x w; throws if the kernel does not fit the padded input.
  size_t out_h(size_t h) const;
  size_t out_w(size_t w) const;
  std::string describe() const;
};

}  // namespace fc

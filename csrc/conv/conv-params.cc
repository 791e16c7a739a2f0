#include "conv/conv-params.h"

#include "common/check.h"

namespace fc {

void ConvParams::validate() const {
  FC_CHECK(groups >= 1, "groups must be >= 1, got ", groups);
  FC_CHECK(in_channels >= 1 && out_channels >= 1, "channel counts must be >= 1, got in_channels=", in_channels,
           " out_channels=", out_channels);
  FC_CHECK(in_channels % groups == 0, "groups=", groups, " must divide the input channels (", in_channels, ")");
  FC_CHECK(out_channels % groups == 0, "groups=", groups, " must divide the output channels (", out_channels, ")");
  FC_CHECK(kernel_h >= 1 && kernel_w >= 1, "kernel size must be >= 1, got ", kernel_h, "x", kernel_w);
  FC_CHECK(stride_h >= 1 && stride_w >= 1, "stride must be >= 1, got (", stride_h, ", ", stride_w, ")");
  FC_CHECK(dilation_h >= 1 && dilation_w >= 1, "dilation must be >= 1, got (", dilation_h, ", ", dilation_w, ")");
}

static size_t out_size(size_t in, size_t pad0, size_t pad1, size_t k, size_t dil, size_t stride, const char* axis) {
  const size_t span = dil * (k - 1) + 1;
  FC_CHECK(in + pad0 + pad1 >= span, "dilated kernel ", axis, " extent ", span, " is larger than the padded input ",
           axis, " ", in + pad0 + pad1, " (input ", in, " + padding ", pad0, "+", pad1, ")");
  return (in + pad0 + pad1 - span) / stride + 1;
}

size_t ConvParams::out_h(size_t h) const { return out_size(h, pad_top, pad_bottom, kernel_h, dilation_h, stride_h, "height"); }
size_t ConvParams::out_w(size_t w) const { return out_size(w, pad_left, pad_right, kernel_w, dilation_w, stride_w, "width"); }

std::string ConvParams::describe() const {
  return cat(out_channels, "x", group_in(), "x", kernel_h, "x", kernel_w, " stride ", stride_h, "x", stride_w,
             " dilation ", dilation_h, "x", dilation_w, " pads ", pad_top, ",", pad_left, ",", pad_bottom, ",",
             pad_right, " groups ", groups);
}

}  // namespace fc

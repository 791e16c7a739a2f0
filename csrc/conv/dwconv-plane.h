// The depthwise plane template over vector traits V: vectorised along output width.
// Interior vectors with stride 1 read the input row directly; border vectors and
// strided layers gather through a small zero-filled buffer.
#pragma once
#include <cstddef>

#include "conv/dwconv-kernels.h"

template <class V>
inline void dwconv_plane(const fc::ConvParams& p, const fc::DwPlaneArgs& a) {
  using reg = typename V::reg;
  constexpr int W = V::W;
  const ptrdiff_t sh = p.stride_h, sw = p.stride_w, dh = p.dilation_h, dw = p.dilation_w;
  const ptrdiff_t pt = p.pad_top, pl = p.pad_left, H = a.h, Wi = a.w_in;
  for (size_t oh = 0; oh < a.oh; ++oh) {
    for (size_t ow = 0; ow < a.ow; ow += W) {
      const int lanes = a.ow - ow < static_cast<size_t>(W) ? static_cast<int>(a.ow - ow) : W;
      reg acc = V::set1(a.bias);
      for (size_t r = 0; r < p.kernel_h; ++r) {
        const ptrdiff_t ih = static_cast<ptrdiff_t>(oh) * sh - pt + static_cast<ptrdiff_t>(r) * dh;
        if (ih < 0 || ih >= H) continue;
        const float* row = a.x + ih * Wi;
        for (size_t s = 0; s < p.kernel_w; ++s) {
          const ptrdiff_t iw0 = static_cast<ptrdiff_t>(ow) * sw - pl + static_cast<ptrdiff_t>(s) * dw;
          const ptrdiff_t iw_last = iw0 + (lanes - 1) * sw;
          reg v;
          if (sw == 1 && iw0 >= 0 && iw_last < Wi) {
            v = lanes == W ? V::load(row + iw0) : V::load_n(row + iw0, lanes);
          } else {
            float tmp[W];
            for (int l = 0; l < W; ++l) {
              const ptrdiff_t iw = iw0 + l * sw;
              tmp[l] = (l < lanes && iw >= 0 && iw < Wi) ? row[iw] : 0.f;
            }
            v = V::load(tmp);
          }
          acc = V::fma(V::set1(a.w[r * p.kernel_w + s]), v, acc);
        }
      }
      float* out = a.y + oh * a.ow + ow;
      if (a.residual) {
        const float* res = a.residual + oh * a.ow + ow;
        acc = V::add(acc, lanes == W ? V::load(res) : V::load_n(res, lanes));
      }
      if (lanes == W)
        V::store(out, acc);
      else
        V::store_n(out, acc, lanes);
    }
  }
}

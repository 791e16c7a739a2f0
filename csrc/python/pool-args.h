// A checked Pool2d from the binding's arguments (pool2d and Program.add_pool).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "common/check.h"
#include "pool/pool.h"

namespace fc {

inline Pool2d make_pool(const std::string& kind, std::array<size_t, 2> k, std::array<size_t, 2> s,
                        std::array<size_t, 2> d, std::array<size_t, 4> pads, bool ceil_mode, bool count_include_pad) {
  FC_CHECK(kind == "max" || kind == "avg", "pooling kind must be 'max' or 'avg', got '", kind, "'");
  Pool2d p;
  p.kind = kind == "max" ? PoolKind::max : PoolKind::avg;
  p.kh = k[0], p.kw = k[1], p.sh = s[0], p.sw = s[1], p.dh = d[0], p.dw = d[1];
  p.pt = pads[0], p.pl = pads[1], p.pb = pads[2], p.pr = pads[3];
  p.ceil_mode = ceil_mode;
  p.count_include_pad = count_include_pad;
  validate(p);
  return p;
}

// The input of a pooling binding: NCHW (N, C, H, W) or channel-blocked (N, C/16, H, W, 16).
struct PoolInput {
  size_t n, c, h, w;
  bool blocked;
  std::vector<size_t> out_shape(size_t oh, size_t ow) const {
    return blocked ? std::vector<size_t>{n, c / 16, oh, ow, 16} : std::vector<size_t>{n, c, oh, ow};
  }
};

template <class Array>
PoolInput pool_input(const Array& x) {
  const bool blocked = x.ndim() == 5 && x.shape(4) == 16;
  FC_CHECK(x.ndim() == 4 || blocked, "x must be 4-D (N, C, H, W) or blocked (N, C/16, H, W, 16), got shape with ",
           x.ndim(), " dimensions");
  return {static_cast<size_t>(x.shape(0)), static_cast<size_t>(x.shape(1)) * (blocked ? 16 : 1),
          static_cast<size_t>(x.shape(2)), static_cast<size_t>(x.shape(3)), blocked};
}

// The channels global pooling of blocked x (N, Cb/16, H, W, 16) writes into out (N, C, 1, 1):
// out's C, which may leave the last block's padding lanes out (blocked_channels).
template <class Array>
size_t blocked_pool_channels(const Array& x, const Array& out) {
  const size_t blocks = static_cast<size_t>(x.shape(1));
  const size_t c = out.ndim() == 4 ? static_cast<size_t>(out.shape(1)) : 0;
  FC_CHECK(c > 0 && (c + 15) / 16 == blocks, "out must be (N, C, 1, 1) with C channels in the ", blocks,
           " blocks of x (", blocks * 16 - 15, "..", blocks * 16, "), got ", out.ndim(), "-D");
  return c;
}

}  // namespace fc

// A checked Pool2d from the binding's arguments (pool2d and Program.add_pool).
#pragma once
#include <array>
#include <string>

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

}  // namespace fc

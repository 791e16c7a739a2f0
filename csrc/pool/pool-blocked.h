// Pooling of one output row of a channel-blocked plane (pool-kernels.h, PoolBlockedRow): each
// tap is one row of 16 channels, so the window is max'ed or summed a whole vector at a time.
#pragma once
#include <cstddef>

#include "pool/pool-kernels.h"

namespace fc {

template <class V, bool Avg>
void pool_blocked_row(const PoolParams& p, const PoolBlockedRow& a) {
  constexpr int B = 16, NV = B / V::W;
  using reg = typename V::reg;
  const ptrdiff_t w = static_cast<ptrdiff_t>(p.w);
  for (size_t j = 0; j < p.ow; ++j) {
    const ptrdiff_t iw0 = static_cast<ptrdiff_t>(j * p.sw) - static_cast<ptrdiff_t>(p.pl);
    reg acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = V::set1(Avg ? 0.f : -__builtin_inff());
    for (size_t t = a.t0; t < a.t1; ++t) {
      const float* row = a.x + (a.ih0 + static_cast<ptrdiff_t>(t * p.dh)) * w * B;
      for (size_t u = 0; u < p.kw; ++u) {
        const ptrdiff_t iw = iw0 + static_cast<ptrdiff_t>(u * p.dw);
        if (iw < 0 || iw >= w) continue;
        for (int v = 0; v < NV; ++v) {
          const reg x = V::load(row + iw * B + v * V::W);
          acc[v] = Avg ? V::add(acc[v], x) : V::max(acc[v], x);
        }
      }
    }
    const reg scale = V::set1(Avg ? a.inv_h * a.inv_col[j] : 1.f);
    for (int v = 0; v < NV; ++v) V::store(a.y + j * B + v * V::W, Avg ? V::mul(acc[v], scale) : acc[v]);
  }
}

}  // namespace fc

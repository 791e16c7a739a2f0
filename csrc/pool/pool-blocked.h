// Pooling of one output row of a channel-blocked plane (pool-kernels.h, PoolBlockedRow): each
// tap is one row of 16 channels, so the window is max'ed or summed a whole vector at a time.
#pragma once
#include <cstddef>

#include "pool/pool-kernels.h"

namespace fc {

// KW: the window's width when it is 2 or 3 (the CNNs' pools), so the taps of an output whose
// window lies inside the row unroll with no bounds check; 0: p.kw at run time. Measured hot:
// a runtime width and a check per tap cost ~30 cycles per output vector (3x3/2, 64 x 111 x 111).
template <class V, bool Avg, int KW>
void pool_blocked_row_kw(const PoolParams& p, const PoolBlockedRow& a) {
  constexpr int B = 16, NV = B / V::W;
  using reg = typename V::reg;
  const ptrdiff_t w = static_cast<ptrdiff_t>(p.w), dw = static_cast<ptrdiff_t>(p.dw);
  const ptrdiff_t kw = KW ? KW : static_cast<ptrdiff_t>(p.kw), reach = (kw - 1) * dw;
  const float* rows[16];  // the window's rows inside the input (kh <= 16 here, else one at a time)
  const size_t nrows = a.t1 - a.t0;
  const bool listed = nrows <= 16;
  if (listed)
    for (size_t t = 0; t < nrows; ++t)
      rows[t] = a.x + (a.ih0 + static_cast<ptrdiff_t>((a.t0 + t) * p.dh)) * w * B;
  for (size_t j = 0; j < p.ow; ++j) {
    const ptrdiff_t iw0 = static_cast<ptrdiff_t>(j * p.sw) - static_cast<ptrdiff_t>(p.pl);
    reg acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = V::set1(Avg ? 0.f : -__builtin_inff());
    if (listed && iw0 >= 0 && iw0 + reach < w) {
      for (size_t t = 0; t < nrows; ++t) {
        const float* x = rows[t] + iw0 * B;
#pragma GCC unroll 4
        for (ptrdiff_t u = 0; u < kw; ++u)
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) {
            const reg xv = V::load(x + u * dw * B + v * V::W);
            acc[v] = Avg ? V::add(acc[v], xv) : V::max(acc[v], xv);
          }
      }
    } else {
      for (size_t t = a.t0; t < a.t1; ++t) {
        const float* row = a.x + (a.ih0 + static_cast<ptrdiff_t>(t * p.dh)) * w * B;
        for (ptrdiff_t u = 0; u < kw; ++u) {
          const ptrdiff_t iw = iw0 + u * dw;
          if (iw < 0 || iw >= w) continue;
          for (int v = 0; v < NV; ++v) {
            const reg xv = V::load(row + iw * B + v * V::W);
            acc[v] = Avg ? V::add(acc[v], xv) : V::max(acc[v], xv);
          }
        }
      }
    }
    const reg scale = V::set1(Avg ? a.inv_h * a.inv_col[j] : 1.f);
    for (int v = 0; v < NV; ++v) V::store(a.y + j * B + v * V::W, Avg ? V::mul(acc[v], scale) : acc[v]);
  }
}

template <class V, bool Avg>
void pool_blocked_row(const PoolParams& p, const PoolBlockedRow& a) {
  switch (p.kw) {
    case 2: return pool_blocked_row_kw<V, Avg, 2>(p, a);
    case 3: return pool_blocked_row_kw<V, Avg, 3>(p, a);
    default: return pool_blocked_row_kw<V, Avg, 0>(p, a);
  }
}

}  // namespace fc

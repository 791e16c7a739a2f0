// The depthwise kernels' vector store, shared by the plane templates over vector traits V.
#pragma once
#include <cstddef>

// Stores one finished output vector at column col of a row of width ow (masked at the row's
// end), adding the residual first when there is one.
template <class V>
inline void dw_store(typename V::reg x, size_t col, size_t ow, float* out, const float* res) {
  constexpr int W = V::W;
  const int lanes = ow - col < static_cast<size_t>(W) ? static_cast<int>(ow - col) : W;
  if (lanes == W) {
    if (res) x = V::add(x, V::load(res + col));
    V::store(out + col, x);
  } else {
    if (res) x = V::add(x, V::load_n(res + col, lanes));
    V::store_n(out + col, x, lanes);
  }
}

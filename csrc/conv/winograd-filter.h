// The Winograd filter transform, shared by the NCHW and the blocked convolutions: done once
// per plan, in double, rounded once.
#pragma once
#include <cstddef>
#include <vector>

#include "conv/winograd-transforms.h"

namespace fc {

// U[xi][k][c] = (G g_kc G^T)[xi] for weights (K x C x 3 x 3), at ((xi * K) + k) * C + c.
template <int M>
std::vector<float> winograd_filter_transform(const float* weight, size_t kk, size_t c) {
  constexpr int A = WinogradMatrices<M>::kAlpha;
  std::vector<float> u(static_cast<size_t>(A * A) * kk * c);
  const auto& g = WinogradMatrices<M>::kG;
  for (size_t k = 0; k < kk; ++k)
    for (size_t ci = 0; ci < c; ++ci) {
      const float* w = weight + (k * c + ci) * 9;
      double gw[A][3];  // G g
      for (int i = 0; i < A; ++i)
        for (int s = 0; s < 3; ++s) gw[i][s] = g[i][0] * w[s] + g[i][1] * w[3 + s] + g[i][2] * w[6 + s];
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j)
          u[((i * A + j) * kk + k) * c + ci] =
              static_cast<float>(gw[i][0] * g[j][0] + gw[i][1] * g[j][1] + gw[i][2] * g[j][2]);
    }
  return u;
}

}  // namespace fc

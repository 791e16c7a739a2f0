// Peak fp32 FMA throughput probe: the one template every ISA file instantiates.
//
// kChains independent accumulators hide the FMA latency (Zen 3/4: 4 cycles x 2 pipes = 8
// in flight; Intel: 4 x 2), so the loop is bound by issue width alone. They and the two
// constants must fit the register file (16 vector registers below AVX-512, 32 with it):
// spilled chains measured 50 instead of 75 GFLOP/s on Zen 3. The multiplier
// is slightly below one so values stay finite however long it runs.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fc {

using fma_peak_fn = uint64_t (*)(size_t iters, float* sink);  // returns the flops it did

uint64_t f32_fma_peak__scalar(size_t iters, float* sink);
uint64_t f32_fma_peak__avx2(size_t iters, float* sink);
uint64_t f32_fma_peak__avx512f(size_t iters, float* sink);

// Runs the active ISA's probe on `threads` threads for about `seconds`; GFLOP/s.
double measure_fma_peak(double seconds, int threads);

}  // namespace fc

template <class V>
inline uint64_t fma_peak(size_t iters, float* sink) {
  using reg = typename V::reg;
  constexpr int kChains = sizeof(reg) >= 64 ? 16 : 12;
  reg acc[kChains];
  const reg mul = V::set1(0.999999f), add = V::set1(1e-7f);
#pragma GCC unroll 16
  for (int i = 0; i < kChains; ++i) acc[i] = V::set1(static_cast<float>(i));
  for (size_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = V::fma(acc[i], mul, add);
  }
  reg s = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kChains; ++i) s = V::add(s, acc[i]);
  float lanes[V::W];
  V::store(lanes, s);
  float total = 0.f;
  for (int l = 0; l < V::W; ++l) total += lanes[l];
  *sink = total;  // keeps the chains alive
  return static_cast<uint64_t>(iters) * kChains * V::W * 2;
}

// Reductions written once over any vector traits V (csrc/simd/v-<isa>.h); each ISA file
// instantiates them with its own V, so no copy is shared between flag sets.
#pragma once

// Sum of the lanes; used once per output row, so a store and a scalar loop suffice.
template <class V>
inline float v_hsum(typename V::reg v) {
  float t[V::W];
  V::store(t, v);
  float s = 0.f;
  for (int l = 0; l < V::W; ++l) s += t[l];
  return s;
}

// Detects the optional members of the vector traits (simd/README.md), so shared templates
// can take a faster path where an ISA offers one.
#pragma once
#include <type_traits>

// Whether V can transpose 8 rows of 16 floats in registers (V::transpose_8x16, announced by
// V::kTranspose8x16: detecting the function's type itself warns about the vector attributes).
template <class V, class = void>
struct has_transpose_8x16 : std::false_type {};
template <class V>
struct has_transpose_8x16<V, std::void_t<decltype(V::kTranspose8x16)>> : std::true_type {};

// Whether V can transpose 8 rows of 8 floats in registers (V::transpose_8x8, in place).
template <class V, class = void>
struct has_transpose_8x8 : std::false_type {};
template <class V>
struct has_transpose_8x8<V, std::void_t<decltype(V::kTranspose8x8)>> : std::true_type {};

// Element-wise activation kernels, one per ISA (files f32-act-<isa>.cc).
#pragma once
#include <cstddef>

#include "act/act-params.h"

namespace fc {

void f32_act__scalar(const Activation& act, float* x, size_t n);
void f32_act__avx2(const Activation& act, float* x, size_t n);
void f32_act__avx512f(const Activation& act, float* x, size_t n);

}  // namespace fc

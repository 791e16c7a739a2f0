// Winograd F(2x2/3x3/4x4/6x6, 3x3) transforms, avx512f: winograd-tile.h instantiated with VAvx512.
#include "conv/winograd-tile.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_winograd_input_ukernel_2x2__avx512f(const WinoInputArgs& a) { winograd_input<VAvx512, 2>(a); }
void f32_winograd_input_ukernel_3x3__avx512f(const WinoInputArgs& a) { winograd_input<VAvx512, 3>(a); }
void f32_winograd_input_ukernel_4x4__avx512f(const WinoInputArgs& a) { winograd_input<VAvx512, 4>(a); }
void f32_winograd_input_ukernel_6x6__avx512f(const WinoInputArgs& a) { winograd_input<VAvx512, 6>(a); }
void f32_winograd_output_ukernel_2x2__avx512f(const WinoOutputArgs& a) { winograd_output<VAvx512, 2>(a); }
void f32_winograd_output_ukernel_3x3__avx512f(const WinoOutputArgs& a) { winograd_output<VAvx512, 3>(a); }
void f32_winograd_output_ukernel_4x4__avx512f(const WinoOutputArgs& a) { winograd_output<VAvx512, 4>(a); }
void f32_winograd_output_ukernel_6x6__avx512f(const WinoOutputArgs& a) { winograd_output<VAvx512, 6>(a); }

}  // namespace fc

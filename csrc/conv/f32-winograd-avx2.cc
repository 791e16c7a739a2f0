// Winograd F(2x2/3x3/4x4/6x6, 3x3) transforms, avx2: winograd-tile.h instantiated with VAvx2.
#include "conv/winograd-tile.h"
#include "simd/v-avx2.h"

namespace fc {

void f32_winograd_input_ukernel_2x2__avx2(const WinoInputArgs& a) { winograd_input<VAvx2, 2>(a); }
void f32_winograd_input_ukernel_3x3__avx2(const WinoInputArgs& a) { winograd_input<VAvx2, 3>(a); }
void f32_winograd_input_ukernel_4x4__avx2(const WinoInputArgs& a) { winograd_input<VAvx2, 4>(a); }
void f32_winograd_input_ukernel_6x6__avx2(const WinoInputArgs& a) { winograd_input<VAvx2, 6>(a); }
void f32_winograd_output_ukernel_2x2__avx2(const WinoOutputArgs& a) { winograd_output<VAvx2, 2>(a); }
void f32_winograd_output_ukernel_3x3__avx2(const WinoOutputArgs& a) { winograd_output<VAvx2, 3>(a); }
void f32_winograd_output_ukernel_4x4__avx2(const WinoOutputArgs& a) { winograd_output<VAvx2, 4>(a); }
void f32_winograd_output_ukernel_6x6__avx2(const WinoOutputArgs& a) { winograd_output<VAvx2, 6>(a); }

}  // namespace fc

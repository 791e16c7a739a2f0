// Winograd F(2x2/3x3/4x4/6x6, 3x3) transforms, scalar: winograd-tile.h instantiated with VScalar.
#include "conv/winograd-tile.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_winograd_input_ukernel_2x2__scalar(const WinoInputArgs& a) { winograd_input<VScalar, 2>(a); }
void f32_winograd_input_ukernel_3x3__scalar(const WinoInputArgs& a) { winograd_input<VScalar, 3>(a); }
void f32_winograd_input_ukernel_4x4__scalar(const WinoInputArgs& a) { winograd_input<VScalar, 4>(a); }
void f32_winograd_input_ukernel_6x6__scalar(const WinoInputArgs& a) { winograd_input<VScalar, 6>(a); }
void f32_winograd_output_ukernel_2x2__scalar(const WinoOutputArgs& a) { winograd_output<VScalar, 2>(a); }
void f32_winograd_output_ukernel_3x3__scalar(const WinoOutputArgs& a) { winograd_output<VScalar, 3>(a); }
void f32_winograd_output_ukernel_4x4__scalar(const WinoOutputArgs& a) { winograd_output<VScalar, 4>(a); }
void f32_winograd_output_ukernel_6x6__scalar(const WinoOutputArgs& a) { winograd_output<VScalar, 6>(a); }

}  // namespace fc

// Depthwise convolution plane, avx512f: dwconv-plane.h instantiated with VAvx512.
#include "conv/dwconv-plane.h"
#include "simd/v-avx512f.h"

namespace fc {

void f32_dwconv_plane__avx512f(const ConvParams& p, const DwPlaneArgs& a) { dwconv_plane<VAvx512>(p, a); }

}  // namespace fc

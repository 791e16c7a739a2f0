// Depthwise convolution plane, avx2: dwconv-plane.h instantiated with VAvx2.
#include "conv/dwconv-plane.h"
#include "simd/v-avx2.h"

namespace fc {

void f32_dwconv_plane__avx2(const ConvParams& p, const DwPlaneArgs& a) { dwconv_plane<VAvx2>(p, a); }

}  // namespace fc

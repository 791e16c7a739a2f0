// Depthwise convolution plane, scalar: dwconv-plane.h instantiated with VScalar.
#include "conv/dwconv-plane.h"
#include "simd/v-scalar.h"

namespace fc {

void f32_dwconv_plane__scalar(const ConvParams& p, const DwPlaneArgs& a) { dwconv_plane<VScalar>(p, a); }

}  // namespace fc

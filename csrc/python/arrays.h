// Checks the binding makes on every array it hands to the engine: the Python layer gives
// friendlier messages first, these keep the C++ side safe when called directly.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "common/check.h"

namespace fc::py_arrays {

namespace py = pybind11;

inline void require_float32(const py::array& a, const char* name) {
  FC_CHECK(a.dtype().is(py::dtype::of<float>()), name, " must be float32, got ", std::string(py::str(a.dtype())));
}

inline void require_c_contiguous(const py::array& a, const char* name) {
  FC_CHECK((a.flags() & py::array::c_style) != 0, name, " must be C-contiguous");
}

inline std::vector<size_t> shape_of(const py::array& a) {
  return std::vector<size_t>(a.shape(), a.shape() + a.ndim());
}

inline std::string shape_str(const std::vector<size_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// A float32 N x ... output of this shape whose images are each contiguous but may lie further
// apart than one image (a channel slice of a larger N x C' x H x W buffer: a Concat's part).
// Returns the data and the distance between images in floats.
inline std::pair<float*, size_t> require_image_blocks(const py::array& a, const std::vector<size_t>& shape,
                                                      const char* name) {
  require_float32(a, name);
  FC_CHECK(shape_of(a) == shape, name, " has shape ", shape_str(shape_of(a)), ", expected ", shape_str(shape));
  size_t block = 1;
  for (size_t i = shape.size(); i-- > 1;) {
    FC_CHECK(a.strides(i) == static_cast<ptrdiff_t>(block * sizeof(float)) || shape[i] == 1, name,
             " must be C-contiguous within each image");
    block *= shape[i];
  }
  const ptrdiff_t stride = a.strides(0);
  FC_CHECK(shape[0] <= 1 || (stride >= static_cast<ptrdiff_t>(block * sizeof(float)) && stride % sizeof(float) == 0),
           name, ": images must not overlap (batch stride ", stride, " bytes for ", block, " floats per image)");
  FC_CHECK(a.writeable(), name, " must be writeable");
  const size_t image = shape[0] <= 1 ? block : static_cast<size_t>(stride) / sizeof(float);
  return {static_cast<float*>(const_cast<void*>(a.data())), image};
}

// A float32, C-contiguous array of exactly this shape (for outputs and residuals).
inline float* require_exact(const py::array& a, const std::vector<size_t>& shape, const char* name) {
  require_float32(a, name);
  require_c_contiguous(a, name);
  FC_CHECK(shape_of(a) == shape, name, " has shape ", shape_str(shape_of(a)), ", expected ", shape_str(shape));
  return static_cast<float*>(const_cast<void*>(a.data()));
}

}  // namespace fc::py_arrays

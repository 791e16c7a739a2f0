// Checks the binding makes on every array it hands to the engine: the Python layer gives
// friendlier messages first, these keep the C++ side safe when called directly.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
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

// A float32, C-contiguous array of exactly this shape (for outputs and residuals).
inline float* require_exact(const py::array& a, const std::vector<size_t>& shape, const char* name) {
  require_float32(a, name);
  require_c_contiguous(a, name);
  FC_CHECK(shape_of(a) == shape, name, " has shape ", shape_str(shape_of(a)), ", expected ", shape_str(shape));
  return static_cast<float*>(const_cast<void*>(a.data()));
}

}  // namespace fc::py_arrays

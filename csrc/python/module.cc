// fastconv._C: the one binding of the C++ engine. Each op family binds itself in its own
// bind-*.cc; this file only assembles them and maps C++ errors to Python ones.
#include <pybind11/pybind11.h>

#include <stdexcept>

namespace py = pybind11;

void bind_config(py::module_& m);
void bind_gemm(py::module_& m);
void bind_conv(py::module_& m);
void bind_bench(py::module_& m);
void bind_layers(py::module_& m);
void bind_program(py::module_& m);

PYBIND11_MODULE(_C, m) {
  m.doc() = "fastconv's C++ engine (internal: use the fastconv package)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  bind_config(m);
  bind_gemm(m);
  bind_conv(m);
  bind_bench(m);
  bind_layers(m);
  bind_program(m);
}

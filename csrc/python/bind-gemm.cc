// fastconv._C.gemm: the packed SGEMM with its fused epilogue, on strided float32 views.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "act/activation.h"
#include "common/threads.h"
#include "gemm/gemm.h"
#include "python/arrays.h"

namespace py = pybind11;

namespace {

fc::StridedMatrix view2d(const py::array& a, const char* name) {
  fc::py_arrays::require_float32(a, name);
  FC_CHECK(a.ndim() == 2, name, " must be 2-D, got ", a.ndim(), "-D");
  FC_CHECK(a.strides(0) % 4 == 0 && a.strides(1) % 4 == 0, name, " strides must be multiples of 4 bytes");
  return {static_cast<const float*>(a.data()), a.strides(0) / 4, a.strides(1) / 4};
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def(
      "gemm",
      [](const py::array& a, const py::array& b, const py::array& out, std::optional<py::array> bias, bool bias_per_column,
         std::optional<py::array> residual, const std::string& act, float alpha, float beta) {
        using namespace fc;
        const StridedMatrix av = view2d(a, "a"), bv = view2d(b, "b");
        const size_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
        FC_CHECK(static_cast<size_t>(b.shape(0)) == k, "a is ", m, "x", k, " but b is ", b.shape(0), "x", n,
                 ": inner dimensions differ");
        float* c = py_arrays::require_exact(out, {m, n}, "out");
        Epilogue ep;
        if (bias) {
          const size_t len = bias_per_column ? n : m;
          ep.bias = py_arrays::require_exact(*bias, {len}, "bias");
          ep.bias_per_column = bias_per_column;
        }
        if (residual) {
          ep.residual = py_arrays::require_exact(*residual, {m, n}, "residual");
          ep.ld_residual = static_cast<ptrdiff_t>(n);
        }
        ep.act = Activation{act_kind_from_name(act), alpha, beta};
        const GemmConfig& cfg = gemm_config();
        StridedA asrc(av);
        StridedB bsrc(bv);
        py::gil_scoped_release release;
        gemm(cfg, m, n, k, asrc, bsrc, c, static_cast<ptrdiff_t>(n), ep, num_threads());
      },
      py::arg("a"), py::arg("b"), py::arg("out"), py::arg("bias") = py::none(), py::arg("bias_per_column") = true,
      py::arg("residual") = py::none(), py::arg("act") = "none", py::arg("alpha") = 0.f, py::arg("beta") = 0.f);
}

// fastconv._C.ConvPlan: a convolution layer with packed weights, run on NCHW float32.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <optional>

#include "act/activation.h"
#include "common/threads.h"
#include "conv/conv-plan.h"
#include "python/arrays.h"
#include "python/blocked-args.h"

namespace py = pybind11;

namespace {

using fc::ConvPlan;

std::vector<float> copy_floats(const py::array& a, const char* name) {
  fc::py_arrays::require_float32(a, name);
  fc::py_arrays::require_c_contiguous(a, name);
  const float* p = static_cast<const float*>(a.data());
  return std::vector<float>(p, p + a.size());
}

std::unique_ptr<ConvPlan> make_plan(const py::array& weight, std::optional<py::array> bias, size_t in_channels,
                                    std::array<size_t, 2> stride, std::array<size_t, 2> dilation,
                                    std::array<size_t, 4> pads, size_t groups, const std::string& act, float alpha,
                                    float beta, const std::string& algo) {
  FC_CHECK(weight.ndim() == 4, "weight must be 4-D (out_channels, in_channels/groups, kh, kw), got ", weight.ndim(), "-D");
  fc::ConvParams p;
  p.out_channels = weight.shape(0);
  p.in_channels = in_channels;
  FC_CHECK(groups >= 1 && weight.shape(1) * groups == in_channels, "weight expects ", weight.shape(1), " x ", groups,
           " groups = ", weight.shape(1) * groups, " input channels, got in_channels=", in_channels);
  p.kernel_h = weight.shape(2);
  p.kernel_w = weight.shape(3);
  p.stride_h = stride[0];
  p.stride_w = stride[1];
  p.dilation_h = dilation[0];
  p.dilation_w = dilation[1];
  p.pad_top = pads[0];
  p.pad_left = pads[1];
  p.pad_bottom = pads[2];
  p.pad_right = pads[3];
  p.groups = groups;
  std::vector<float> b = bias ? copy_floats(*bias, "bias") : std::vector<float>();
  fc::Activation a{fc::act_kind_from_name(act), alpha, beta};
  return std::make_unique<ConvPlan>(p, copy_floats(weight, "weight"), std::move(b), a, algo, fc::active_isa());
}

}  // namespace

void bind_conv(py::module_& m) {
  py::class_<ConvPlan>(m, "ConvPlan")
      .def(py::init(&make_plan), py::arg("weight"), py::arg("bias"), py::arg("in_channels"), py::arg("stride"),
           py::arg("dilation"), py::arg("pads"), py::arg("groups"), py::arg("act"), py::arg("alpha"), py::arg("beta"),
           py::arg("algo"))
      .def("output_hw",
           [](const ConvPlan& plan, size_t h, size_t w) {
             return std::make_pair(plan.params().out_h(h), plan.params().out_w(w));
           })
      .def("auto_candidates", [](const ConvPlan& plan) { return fc::auto_candidates(plan.params()); })
      // The cost model's time for one algorithm (conv-cost.cc; only the ranking is meaningful).
      .def("modelled_cost",
           [](const ConvPlan& plan, const std::string& algo, size_t h, size_t w) {
             return fc::conv_cost(algo, plan.params(), h, w, plan.isa());
           })
      .def("algo_for",
           [](const ConvPlan& plan, size_t h, size_t w) {
             py::gil_scoped_release release;  // may pack weights
             return std::string(plan.algorithm_for(h, w).name());
           })
      .def(
          "run",
          [](const ConvPlan& plan, const py::array& x, const py::array& out, std::optional<py::array> residual) {
            using namespace fc;
            const ConvParams& p = plan.params();
            py_arrays::require_float32(x, "x");
            py_arrays::require_c_contiguous(x, "x");
            FC_CHECK(x.ndim() == 4, "x must be 4-D (N, C, H, W), got ", x.ndim(), "-D");
            FC_CHECK(static_cast<size_t>(x.shape(1)) == p.in_channels, "x has ", x.shape(1), " channels, the layer expects ",
                     p.in_channels);
            const size_t n = x.shape(0), h = x.shape(2), w = x.shape(3);
            const std::vector<size_t> yshape = {n, p.out_channels, p.out_h(h), p.out_w(w)};
            const auto [y, y_image] = py_arrays::require_image_blocks(out, yshape, "out");
            const float* res = residual ? py_arrays::require_exact(*residual, yshape, "residual") : nullptr;
            const float* xp = static_cast<const float*>(x.data());
            py::gil_scoped_release release;
            plan.run(xp, n, h, w, y, y_image, res, num_threads());
          },
          py::arg("x"), py::arg("out"), py::arg("residual") = py::none())
      .def_property_readonly("can_run_blocked", [](const fc::ConvPlan& p) { return p.can_run_blocked(); })
      .def("blocked_winograd_m", &ConvPlan::blocked_winograd_m, py::arg("h"), py::arg("w"))
      .def(
          "run_blocked",
          [](const ConvPlan& plan, const py::array& x, const py::array& out, std::optional<py::array> residual) {
            using namespace fc;
            const BlockedConvShapes s = blocked_conv_shapes(plan, x);
            py_arrays::require_float32(x, "x");
            py_arrays::require_c_contiguous(x, "x");
            FC_CHECK(py_arrays::shape_of(x) == s.x, "x has shape ", py_arrays::shape_str(py_arrays::shape_of(x)),
                     ", the layer expects ", py_arrays::shape_str(s.x), " with N, H, W any");
            const auto [y, y_image] = py_arrays::require_image_blocks(out, s.y, "out");
            const float* res = residual ? py_arrays::require_exact(*residual, s.y, "residual") : nullptr;
            const float* xp = static_cast<const float*>(x.data());
            py::gil_scoped_release release;
            plan.run_blocked(xp, s.n, s.h, s.w, y, y_image, res, num_threads(), s.input);
          },
          py::arg("x"), py::arg("out"), py::arg("residual") = py::none());

  // NCHW <-> channel-blocked copies (conv/convc-kernels.h); out may be a Concat's part.
  for (const bool to_blocked : {true, false}) {
    m.def(
        to_blocked ? "to_blocked" : "from_blocked",
        [to_blocked](const py::array& x, const py::array& out) {
          using namespace fc;
          py_arrays::require_float32(x, "x");
          py_arrays::require_c_contiguous(x, "x");
          const ReorderShapes s = reorder_shapes(x, to_blocked);
          const auto [y, y_image] = py_arrays::require_image_blocks(out, s.y, "out");
          const float* xp = static_cast<const float*>(x.data());
          py::gil_scoped_release release;
          (to_blocked ? nchw_to_blocked : blocked_to_nchw)(xp, s.n, s.c, s.hw, s.c * s.hw, y, y_image, num_threads(),
                                                           active_isa());
        },
        py::arg("x"), py::arg("out"));
  }
}

// fastconv._C layer kernels: pooling, per-channel affine (batch norm, prelu), element-wise
// add/mul, softmax, LRN. Each call checks its arrays, then releases the GIL for the kernel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <optional>

#include "act/activation.h"
#include "common/threads.h"
#include "dense/dense-plan.h"
#include "eltwise/eltwise.h"
#include "norm/norm.h"
#include "pool/pool.h"
#include "python/arrays.h"
#include "python/blocked-args.h"
#include "python/pool-args.h"

namespace py = pybind11;

namespace {

using namespace fc;

const float* input(const py::array& a, const char* name) {
  py_arrays::require_float32(a, name);
  py_arrays::require_c_contiguous(a, name);
  return static_cast<const float*>(a.data());
}

// Product of the dimensions [from, to) of a.
size_t extent(const py::array& a, int from, int to) {
  size_t n = 1;
  for (int i = from; i < to; ++i) n *= a.shape(i);
  return n;
}

}  // namespace

void bind_dense(py::module_& m);

void bind_layers(py::module_& m) {
  bind_dense(m);
  m.def(
      "pool_output_hw",
      [](size_t h, size_t w, std::array<size_t, 2> k, std::array<size_t, 2> s, std::array<size_t, 2> d,
         std::array<size_t, 4> pads, bool ceil_mode) {
        const Pool2d p = make_pool("max", k, s, d, pads, ceil_mode, false);
        return std::make_pair(p.out_h(h), p.out_w(w));
      },
      py::arg("h"), py::arg("w"), py::arg("kernel"), py::arg("stride"), py::arg("dilation"), py::arg("pads"),
      py::arg("ceil_mode"));

  m.def(
      "pool2d",
      [](const py::array& x, const py::array& out, const std::string& kind, std::array<size_t, 2> k,
         std::array<size_t, 2> s, std::array<size_t, 2> d, std::array<size_t, 4> pads, bool ceil_mode,
         bool count_include_pad) {
        const Pool2d p = make_pool(kind, k, s, d, pads, ceil_mode, count_include_pad);
        const float* xp = input(x, "x");
        const PoolInput in = pool_input(x);  // NCHW, or blocked (N, C/16, H, W, 16)
        const auto [y, y_image] = py_arrays::require_image_blocks(out, in.out_shape(p.out_h(in.h), p.out_w(in.w)), "out");
        py::gil_scoped_release release;
        (in.blocked ? pool2d_blocked : pool2d)(p, xp, in.n, in.c, in.h, in.w, y, y_image, num_threads(), active_isa());
      },
      py::arg("x"), py::arg("out"), py::arg("kind"), py::arg("kernel"), py::arg("stride"), py::arg("dilation"),
      py::arg("pads"), py::arg("ceil_mode"), py::arg("count_include_pad"));

  m.def(
      "global_pool",
      [](const py::array& x, const py::array& out, const std::string& kind, bool blocked) {
        FC_CHECK(kind == "max" || kind == "avg", "pooling kind must be 'max' or 'avg', got '", kind, "'");
        const float* xp = input(x, "x");
        FC_CHECK(x.ndim() >= 3, "x must be (N, C, spatial...), got ", x.ndim(), "-D");
        const ChannelExtents e = channel_extents(x, blocked);
        const PoolKind pk = kind == "max" ? PoolKind::max : PoolKind::avg;
        if (blocked) {  // (N, C/16, H, W, 16) -> NCHW (N, C, 1, 1); a 5-D NCDHW x is not blocked
          const size_t c = blocked_pool_channels(x, out);
          float* y = py_arrays::require_exact(out, {e.n, c, 1, 1}, "out");
          py::gil_scoped_release release;
          global_pool_blocked(pk, xp, e.n, c, e.hw, y, num_threads());
          return;
        }
        std::vector<size_t> yshape = {e.n, e.c};
        yshape.resize(x.ndim(), 1);
        float* y = py_arrays::require_exact(out, yshape, "out");
        py::gil_scoped_release release;
        global_pool(pk, xp, e.n * e.c, e.hw, y, num_threads(), active_isa());
      },
      py::arg("x"), py::arg("out"), py::arg("kind"), py::arg("blocked") = false);

  m.def(
      "channel_affine",
      [](const py::array& x, const py::array& out, std::optional<py::array> scale, std::optional<py::array> shift,
         const std::string& act, float alpha, float beta, std::optional<py::array> slope, bool blocked) {
        const float* xp = input(x, "x");
        FC_CHECK(x.ndim() >= 2, "x must be (N, C, ...), got ", x.ndim(), "-D");
        const auto [n, c, hw] = channel_extents(x, blocked);
        float* y = py_arrays::require_exact(out, py_arrays::shape_of(x), "out");
        if (blocked) {  // per-lane scale and shift: C/16 * 16 values
          FC_CHECK(scale && shift && !slope, "the blocked affine map takes scale and shift (no slope)");
          const float* sp = py_arrays::require_exact(*scale, {c * kChannelBlock}, "scale");
          const float* tp = py_arrays::require_exact(*shift, {c * kChannelBlock}, "shift");
          const Activation a{act_kind_from_name(act), alpha, beta};
          py::gil_scoped_release release;
          channel_affine_blocked(xp, y, n, c, hw, kChannelBlock, sp, tp, a, num_threads(), active_isa());
          return;
        }
        const float* sp = scale ? py_arrays::require_exact(*scale, {c}, "scale") : nullptr;
        const float* tp = shift ? py_arrays::require_exact(*shift, {c}, "shift") : nullptr;
        const float* lp = slope ? py_arrays::require_exact(*slope, {c}, "slope") : nullptr;
        const Activation a{act_kind_from_name(act), alpha, beta};
        py::gil_scoped_release release;
        channel_affine(xp, y, n, c, hw, sp, tp, a, lp, num_threads(), active_isa());
      },
      py::arg("x"), py::arg("out"), py::arg("scale"), py::arg("shift"), py::arg("act") = "none",
      py::arg("alpha") = 0.f, py::arg("beta") = 0.f, py::arg("slope") = py::none(), py::arg("blocked") = false);

  m.def(
      "binary",
      [](const py::array& a, const py::array& b, const py::array& out, const std::string& op, const std::string& act,
         float alpha, float beta) {
        FC_CHECK(op == "add" || op == "mul", "op must be 'add' or 'mul', got '", op, "'");
        const float* ap = input(a, "a");
        const float* bp = py_arrays::require_exact(b, py_arrays::shape_of(a), "b");
        float* y = py_arrays::require_exact(out, py_arrays::shape_of(a), "out");
        const Activation ac{act_kind_from_name(act), alpha, beta};
        py::gil_scoped_release release;
        binary(op == "add" ? BinaryOp::add : BinaryOp::mul, ap, bp, y, static_cast<size_t>(a.size()), ac,
               num_threads(), active_isa());
      },
      py::arg("a"), py::arg("b"), py::arg("out"), py::arg("op"), py::arg("act") = "none", py::arg("alpha") = 0.f,
      py::arg("beta") = 0.f);

  m.def(
      "softmax",
      [](const py::array& x, const py::array& out, int axis, bool log) {
        const float* xp = input(x, "x");
        const int nd = static_cast<int>(x.ndim());
        FC_CHECK(nd >= 1 && axis >= 0 && axis < nd, "axis ", axis, " is out of range for a ", nd, "-D array");
        float* y = py_arrays::require_exact(out, py_arrays::shape_of(x), "out");
        FC_CHECK(xp != y, "softmax cannot run in place");
        const size_t outer = extent(x, 0, axis), len = x.shape(axis), inner = extent(x, axis + 1, nd);
        if (outer * len * inner == 0) return;
        py::gil_scoped_release release;
        softmax(xp, y, outer, len, inner, log, num_threads(), active_isa());
      },
      py::arg("x"), py::arg("out"), py::arg("axis"), py::arg("log"));

  m.def(
      "lrn",
      [](const py::array& x, const py::array& out, size_t size, float alpha, float beta, float bias, bool blocked) {
        const float* xp = input(x, "x");
        FC_CHECK(x.ndim() >= 3, "x must be (N, C, spatial...), got ", x.ndim(), "-D");
        const auto [n, c, hw] = channel_extents(x, blocked);
        float* y = py_arrays::require_exact(out, py_arrays::shape_of(x), "out");
        FC_CHECK(blocked || xp != y, "lrn cannot run in place");
        if (n * c * hw == 0) return;
        py::gil_scoped_release release;
        (blocked ? lrn_blocked : lrn)(xp, y, n, c, hw, size, alpha, beta, bias, num_threads(), active_isa());
      },
      py::arg("x"), py::arg("out"), py::arg("size"), py::arg("alpha"), py::arg("beta"), py::arg("bias"),
      py::arg("blocked") = false);
}

void bind_dense(py::module_& m) {
  py::class_<DensePlan>(m, "DensePlan")
      .def(py::init([](const py::array& weight, std::optional<py::array> bias, const std::string& act, float alpha,
                       float beta) {
             const float* w = input(weight, "weight");
             FC_CHECK(weight.ndim() == 2, "weight must be 2-D (out_features, in_features), got ", weight.ndim(), "-D");
             const size_t out = weight.shape(0), in = weight.shape(1);
             std::vector<float> b;
             if (bias) {
               const float* bp = py_arrays::require_exact(*bias, {out}, "bias");
               b.assign(bp, bp + out);
             }
             const Activation a{act_kind_from_name(act), alpha, beta};
             py::gil_scoped_release release;  // copying the weights
             return std::make_unique<DensePlan>(w, out, in, std::move(b), a, active_isa());
           }),
           py::arg("weight"), py::arg("bias"), py::arg("act") = "none", py::arg("alpha") = 0.f, py::arg("beta") = 0.f)
      .def("run",
           [](const DensePlan& plan, const py::array& x, const py::array& out) {
             const float* xp = input(x, "x");
             FC_CHECK(x.ndim() == 2 && static_cast<size_t>(x.shape(1)) == plan.in_features(), "x must be (N, ",
                      plan.in_features(), "), got ", py_arrays::shape_str(py_arrays::shape_of(x)));
             const size_t n = x.shape(0);
             float* y = py_arrays::require_exact(out, {n, plan.out_features()}, "out");
             if (n == 0) return;
             py::gil_scoped_release release;
             plan.run(xp, n, y, num_threads());
           },
           py::arg("x"), py::arg("out"));
}

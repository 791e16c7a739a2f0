// fastconv._C.Program: a recorded run of engine calls, replayed in one call.
//
// An ONNX session's plan runs its nodes from Python; between two kernels the interpreter
// does a few microseconds of bookkeeping per node, and after a layer has swept the caches
// that bookkeeping runs cold (10-30 us a node measured inside SqueezeNet, ~15% of its
// batch-1 time on 2 threads). The session records each run of consecutive nodes that are
// plain engine calls on fixed buffers (convolutions, pooling, batch norm, LRN, channel
// concatenation, dense layers, softmax; Flatten as a view) once per arena, and replays
// it here with the GIL released and no Python between the kernels.
//
// Every array is checked when it is added, as the per-op bindings check theirs; fixed
// arrays are kept alive by the program. A dynamic value (the session's feed) is bound
// per run and must have the shape, dtype and layout it was recorded with.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <vector>

#include "common/parallel.h"
#include "common/threads.h"
#include "act/activation.h"
#include "conv/conv-plan.h"
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

class Program {
 public:
  static constexpr int kMaxDynamic = 1024;

  // Where a value lives at run time: a fixed pointer, or dynamic input `dyn` of run().
  struct Ref {
    float* fixed = nullptr;
    int dyn = -1;
    float* get(float* const* dynamic) const { return dyn >= 0 ? dynamic[dyn] : fixed; }
  };

  // An array the steps read, of exactly this shape; `dyn` >= 0 makes it dynamic input `dyn`
  // (this array fixes the shape every run must bind), else its memory is fixed.
  Ref input(const py::array& a, int dyn, const std::vector<size_t>& shape, const char* name) {
    FC_CHECK(dyn < kMaxDynamic, "dynamic input index ", dyn, " out of range (at most ", kMaxDynamic - 1, ")");
    py_arrays::require_float32(a, name);
    py_arrays::require_c_contiguous(a, name);
    FC_CHECK(py_arrays::shape_of(a) == shape, name, " has shape ", py_arrays::shape_str(py_arrays::shape_of(a)),
             ", expected ", py_arrays::shape_str(shape));
    Ref r;
    if (dyn >= 0) {
      if (static_cast<size_t>(dyn) >= dyn_shapes_.size()) dyn_shapes_.resize(dyn + 1);
      FC_CHECK(dyn_shapes_[dyn].empty() || dyn_shapes_[dyn] == shape, "dynamic input ", dyn, " was recorded with shape ",
               py_arrays::shape_str(dyn_shapes_[dyn]), ", now used as ", py_arrays::shape_str(shape));
      dyn_shapes_[dyn] = shape;
      r.dyn = dyn;
    } else {
      keep_.push_back(a);
      r.fixed = static_cast<float*>(const_cast<void*>(a.data()));
    }
    return r;
  }

  // An output of this shape whose images may lie `image` floats apart (a Concat's part).
  std::pair<float*, size_t> output(const py::array& a, const std::vector<size_t>& shape, const char* name) {
    auto out = py_arrays::require_image_blocks(a, shape, name);
    keep_.push_back(a);
    return out;
  }

  float* exact_output(const py::array& a, const std::vector<size_t>& shape, const char* name) {
    float* p = py_arrays::require_exact(a, shape, name);
    FC_CHECK(a.writeable(), name, " must be writeable");
    keep_.push_back(a);
    return p;
  }

  // The product of shape[from], shape[from + 1], ..., shape[to - 1].
  static size_t volume(const std::vector<size_t>& shape, size_t from = 0, size_t to = SIZE_MAX) {
    size_t v = 1;
    for (size_t i = from; i < std::min(to, shape.size()); ++i) v *= shape[i];
    return v;
  }

  void add_conv(const py::object& plan_obj, const py::array& x, int x_dyn, const py::array& y,
                std::optional<py::array> residual, int residual_dyn) {
    const ConvPlan& plan = plan_obj.cast<const ConvPlan&>();
    keep_.push_back(plan_obj);
    const ConvParams& p = plan.params();
    FC_CHECK(x.ndim() == 4, "x must be 4-D (N, C, H, W), got ", x.ndim(), "-D");
    const size_t n = x.shape(0), h = x.shape(2), w = x.shape(3);
    const Ref xr = input(x, x_dyn, {n, p.in_channels, h, w}, "x");
    const std::vector<size_t> yshape = {n, p.out_channels, p.out_h(h), p.out_w(w)};
    const auto [yp, y_image] = output(y, yshape, "out");
    const Ref rr = residual ? input(*residual, residual_dyn, yshape, "residual") : Ref{};
    steps_.push_back([&plan, xr, rr, yp = yp, y_image = y_image, n, h, w](float* const* dyn, int nt) {
      plan.run(xr.get(dyn), n, h, w, yp, y_image, rr.fixed || rr.dyn >= 0 ? rr.get(dyn) : nullptr, nt);
    });
  }

  // The same convolution on channel-blocked tensors (ConvPlan::run_blocked).
  void add_conv_blocked(const py::object& plan_obj, const py::array& x, int x_dyn, const py::array& y,
                        std::optional<py::array> residual, int residual_dyn) {
    const ConvPlan& plan = plan_obj.cast<const ConvPlan&>();
    keep_.push_back(plan_obj);
    const BlockedConvShapes s = blocked_conv_shapes(plan, x);
    const Ref xr = input(x, x_dyn, s.x, "x");
    const auto [yp, y_image] = output(y, s.y, "out");
    const Ref rr = residual ? input(*residual, residual_dyn, s.y, "residual") : Ref{};
    steps_.push_back([&plan, xr, rr, yp = yp, y_image = y_image, n = s.n, h = s.h, w = s.w,
                      in = s.input](float* const* dyn, int nt) {
      plan.run_blocked(xr.get(dyn), n, h, w, yp, y_image, rr.fixed || rr.dyn >= 0 ? rr.get(dyn) : nullptr, nt, in);
    });
  }

  // NCHW x -> blocked y (to_blocked) or blocked x -> NCHW y, with the kernels of the level
  // active when the step is recorded (as the plans it runs between).
  void add_reorder(const py::array& x, int x_dyn, const py::array& y, bool to_blocked) {
    const ReorderShapes s = reorder_shapes(x, to_blocked);
    const Ref xr = input(x, x_dyn, py_arrays::shape_of(x), "x");
    const auto [yp, y_image] = output(y, s.y, "out");
    steps_.push_back([xr, yp = yp, y_image = y_image, n = s.n, c = s.c, hw = s.hw, to_blocked,
                      isa = active_isa()](float* const* dyn, int nt) {
      (to_blocked ? nchw_to_blocked : blocked_to_nchw)(xr.get(dyn), n, c, hw, c * hw, yp, y_image, nt, isa);
    });
  }

  void add_pool(const py::array& x, int x_dyn, const py::array& y, const std::string& kind, std::array<size_t, 2> k,
                std::array<size_t, 2> s, std::array<size_t, 2> d, std::array<size_t, 4> pads, bool ceil_mode,
                bool count_include_pad) {
    const Pool2d p = make_pool(kind, k, s, d, pads, ceil_mode, count_include_pad);
    const PoolInput in = pool_input(x);  // NCHW, or blocked (N, C/16, H, W, 16)
    const Ref xr = input(x, x_dyn, py_arrays::shape_of(x), "x");
    const auto [yp, y_image] = output(y, in.out_shape(p.out_h(in.h), p.out_w(in.w)), "out");
    const Isa isa = active_isa();
    steps_.push_back([p, xr, yp = yp, y_image = y_image, in, isa](float* const* dyn, int nt) {
      (in.blocked ? pool2d_blocked : pool2d)(p, xr.get(dyn), in.n, in.c, in.h, in.w, yp, y_image, nt, isa);
    });
  }

  void add_global_pool(const py::array& x, int x_dyn, const py::array& y, const std::string& kind, bool blocked) {
    FC_CHECK(kind == "max" || kind == "avg", "pooling kind must be 'max' or 'avg', got '", kind, "'");
    FC_CHECK(x.ndim() >= 3, "x must be (N, C, spatial...), got ", x.ndim(), "-D");
    const ChannelExtents e = channel_extents(x, blocked);
    const std::vector<size_t> xshape = py_arrays::shape_of(x);
    const Ref xr = input(x, x_dyn, xshape, "x");
    const PoolKind pk = kind == "max" ? PoolKind::max : PoolKind::avg;
    if (blocked) {  // (N, C/16, H, W, 16) -> NCHW (N, C, 1, 1)
      const size_t n = e.n, c = blocked_pool_channels(x, y), hw = e.hw;
      float* yp = exact_output(y, {n, c, 1, 1}, "out");
      steps_.push_back([pk, xr, yp, n, c, hw](float* const* dyn, int nt) {
        global_pool_blocked(pk, xr.get(dyn), n, c, hw, yp, nt);
      });
      return;
    }
    std::vector<size_t> yshape(xshape.begin(), xshape.begin() + 2);
    yshape.resize(xshape.size(), 1);
    float* yp = exact_output(y, yshape, "out");
    const size_t planes = e.n * e.c, hw = e.hw;
    const Isa isa = active_isa();
    steps_.push_back([pk, xr, yp = yp, planes, hw, isa](float* const* dyn, int nt) {
      global_pool(pk, xr.get(dyn), planes, hw, yp, nt, isa);
    });
  }

  // y = act(x * scale[c] + shift[c]) (batch norm folded to a per-channel affine map).
  void add_channel_affine(const py::array& x, int x_dyn, const py::array& y, const py::array& scale,
                          const py::array& shift, const std::string& act, float alpha, float beta, bool blocked) {
    FC_CHECK(x.ndim() >= 2, "x must be (N, C, ...), got ", x.ndim(), "-D");
    const auto [n, c, hw] = channel_extents(x, blocked);  // blocked: c counts blocks of per-lane values
    const std::vector<size_t> xshape = py_arrays::shape_of(x);
    const size_t values = blocked ? c * kChannelBlock : c;
    const Ref xr = input(x, x_dyn, xshape, "x");
    float* yp = exact_output(y, xshape, "out");
    const Ref sr = input(scale, -1, {values}, "scale"), tr = input(shift, -1, {values}, "shift");
    const Activation a{act_kind_from_name(act), alpha, beta};
    const Isa isa = active_isa();
    steps_.push_back([xr, yp, sr, tr, a, n = n, c = c, hw = hw, blocked, isa](float* const* dyn, int nt) {
      if (blocked)
        channel_affine_blocked(xr.get(dyn), yp, n, c, hw, kChannelBlock, sr.fixed, tr.fixed, a, nt, isa);
      else
        channel_affine(xr.get(dyn), yp, n, c, hw, sr.fixed, tr.fixed, a, nullptr, nt, isa);
    });
  }

  // Local response normalisation across channels (norm/norm.h).
  void add_lrn(const py::array& x, int x_dyn, const py::array& y, size_t size, float alpha, float beta, float bias,
               bool blocked) {
    FC_CHECK(x.ndim() >= 3, "x must be (N, C, spatial...), got ", x.ndim(), "-D");
    FC_CHECK(size >= 1 && bias > 0, "lrn needs size >= 1 and bias > 0, got size ", size, ", bias ", bias);
    const auto [n, c, hw] = channel_extents(x, blocked);  // blocked: c counts blocks of channels
    const std::vector<size_t> xshape = py_arrays::shape_of(x);
    const Ref xr = input(x, x_dyn, xshape, "x");
    float* yp = exact_output(y, xshape, "out");
    FC_CHECK(blocked || xr.dyn >= 0 || xr.fixed != yp, "lrn cannot run in place");
    const Isa isa = active_isa();
    steps_.push_back([xr, yp, n = n, c = c, hw = hw, size, alpha, beta, bias, blocked, isa](float* const* dyn, int nt) {
      if (n * c * hw != 0)
        (blocked ? lrn_blocked : lrn)(xr.get(dyn), yp, n, c, hw, size, alpha, beta, bias, nt, isa);
    });
  }

  // Softmax (or log-softmax) along `axis` (norm/norm.h): a classifier's last node.
  void add_softmax(const py::array& x, int x_dyn, const py::array& y, int axis, bool log) {
    const std::vector<size_t> xshape = py_arrays::shape_of(x);
    const int nd = static_cast<int>(xshape.size());
    FC_CHECK(nd >= 1 && axis >= 0 && axis < nd, "axis ", axis, " is out of range for a ", nd, "-D array");
    const Ref xr = input(x, x_dyn, xshape, "x");
    float* yp = exact_output(y, xshape, "out");
    FC_CHECK(xr.dyn >= 0 || xr.fixed != yp, "softmax cannot run in place");
    const size_t outer = volume(xshape, 0, axis), len = xshape[axis], inner = volume(xshape, axis + 1);
    const Isa isa = active_isa();
    steps_.push_back([xr, yp, outer, len, inner, log, isa](float* const* dyn, int nt) {
      if (outer * len * inner != 0) softmax(xr.get(dyn), yp, outer, len, inner, log, nt, isa);
    });
  }

  // y (n, sum c_i, ...) = the parts (n, c_i, ...) one after another along channels.
  void add_concat(const std::vector<py::array>& parts, const std::vector<int>& dyns, const py::array& y) {
    FC_CHECK(!parts.empty() && parts.size() == dyns.size(), "concat needs one dynamic index per part, got ",
             parts.size(), " parts and ", dyns.size(), " indices");
    FC_CHECK(y.ndim() >= 2, "out must be (N, C, ...), got ", y.ndim(), "-D");
    const std::vector<size_t> yshape = py_arrays::shape_of(y);
    const size_t n = yshape[0], inner = volume(yshape, 2);
    std::vector<std::pair<Ref, size_t>> refs;  // part, floats per image
    size_t channels = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      std::vector<size_t> shape = yshape;
      FC_CHECK(parts[i].ndim() == y.ndim(), "part ", i, " must be ", y.ndim(), "-D");
      shape[1] = parts[i].shape(1);
      refs.emplace_back(input(parts[i], dyns[i], shape, "part"), shape[1] * inner);
      channels += shape[1];
    }
    FC_CHECK(channels == yshape[1], "the parts have ", channels, " channels, out has ", yshape[1]);
    float* yp = exact_output(y, yshape, "out");
    const size_t image = channels * inner;
    // Pieces of the output of ~64K floats on every thread: a DenseNet Concat moves megabytes a run
    // (its first part is the previous Concat), which one core copied at half the bandwidth of two.
    // A part its producer already wrote in place (same address) is not copied onto itself.
    constexpr size_t kPiece = size_t{1} << 16;
    steps_.push_back([refs, yp, n, image](float* const* dyn, int nt) {
      const size_t pieces = (image + kPiece - 1) / kPiece;
      parallel_for_items(n * pieces, kPiece, nt, [&](size_t t) {
        const size_t b = t / pieces, lo = t % pieces * kPiece, hi = std::min(image, lo + kPiece);
        size_t start = 0;  // the part's first float within an output image
        for (const auto& [ref, floats] : refs) {
          const size_t a = std::max(lo, start), e = std::min(hi, start + floats);
          if (a < e) {
            const float* src = ref.get(dyn) + b * floats + (a - start);
            float* dst = yp + b * image + a;
            if (src != dst) std::memcpy(dst, src, (e - a) * sizeof(float));
          }
          start += floats;
        }
      });
    });
  }

  // y (n, out) = act(x (n, in) * weight^T + bias), the dense layer's packed plan.
  void add_dense(const py::object& plan_obj, const py::array& x, int x_dyn, const py::array& y) {
    const DensePlan& plan = plan_obj.cast<const DensePlan&>();
    keep_.push_back(plan_obj);
    FC_CHECK(x.ndim() == 2, "x must be (N, ", plan.in_features(), "), got ", x.ndim(), "-D");
    const size_t n = x.shape(0);
    const Ref xr = input(x, x_dyn, {n, plan.in_features()}, "x");
    float* yp = exact_output(y, {n, plan.out_features()}, "out");
    steps_.push_back([&plan, xr, yp, n](float* const* dyn, int nt) {
      if (n != 0) plan.run(xr.get(dyn), n, yp, nt);
    });
  }

  size_t size() const { return steps_.size(); }

  void run(const std::vector<py::array>& dynamic) {
    FC_CHECK(dynamic.size() == dyn_shapes_.size(), "the program takes ", dyn_shapes_.size(), " dynamic inputs, got ",
             dynamic.size());
    std::vector<float*> ptrs(dynamic.size());
    for (size_t i = 0; i < dynamic.size(); ++i) {
      const py::array& a = dynamic[i];
      py_arrays::require_float32(a, "input");
      py_arrays::require_c_contiguous(a, "input");
      FC_CHECK(py_arrays::shape_of(a) == dyn_shapes_[i], "input ", i, " has shape ",
               py_arrays::shape_str(py_arrays::shape_of(a)), ", the program was recorded with ",
               py_arrays::shape_str(dyn_shapes_[i]));
      ptrs[i] = static_cast<float*>(const_cast<void*>(a.data()));
    }
    const int nt = num_threads();
    py::gil_scoped_release release;
    for (const auto& step : steps_) step(ptrs.data(), nt);
  }

 private:
  std::vector<std::function<void(float* const*, int)>> steps_;
  std::vector<std::vector<size_t>> dyn_shapes_;
  std::vector<py::object> keep_;  // plans and fixed arrays the steps point into
};

}  // namespace

void bind_program(py::module_& m) {
  py::class_<Program>(m, "Program")
      .def(py::init<>())
      .def("add_conv", &Program::add_conv, py::arg("plan"), py::arg("x"), py::arg("x_dyn"), py::arg("out"),
           py::arg("residual") = py::none(), py::arg("residual_dyn") = -1)
      .def("add_conv_blocked", &Program::add_conv_blocked, py::arg("plan"), py::arg("x"), py::arg("x_dyn"),
           py::arg("out"), py::arg("residual") = py::none(), py::arg("residual_dyn") = -1)
      .def("add_reorder", &Program::add_reorder, py::arg("x"), py::arg("x_dyn"), py::arg("out"), py::arg("to_blocked"))
      .def("add_pool", &Program::add_pool, py::arg("x"), py::arg("x_dyn"), py::arg("out"), py::arg("kind"),
           py::arg("kernel"), py::arg("stride"), py::arg("dilation"), py::arg("pads"), py::arg("ceil_mode"),
           py::arg("count_include_pad"))
      .def("add_global_pool", &Program::add_global_pool, py::arg("x"), py::arg("x_dyn"), py::arg("out"),
           py::arg("kind"), py::arg("blocked") = false)
      .def("add_channel_affine", &Program::add_channel_affine, py::arg("x"), py::arg("x_dyn"), py::arg("out"),
           py::arg("scale"), py::arg("shift"), py::arg("act"), py::arg("alpha"), py::arg("beta"),
           py::arg("blocked") = false)
      .def("add_lrn", &Program::add_lrn, py::arg("x"), py::arg("x_dyn"), py::arg("out"), py::arg("size"),
           py::arg("alpha"), py::arg("beta"), py::arg("bias"), py::arg("blocked") = false)
      .def("add_softmax", &Program::add_softmax, py::arg("x"), py::arg("x_dyn"), py::arg("out"), py::arg("axis"),
           py::arg("log"))
      .def("add_dense", &Program::add_dense, py::arg("plan"), py::arg("x"), py::arg("x_dyn"), py::arg("out"))
      .def("add_concat", &Program::add_concat, py::arg("parts"), py::arg("dyns"), py::arg("out"))
      .def("__len__", &Program::size)
      .def("run", &Program::run, py::arg("dynamic"));
}

// ISA selection, threads and build facts.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <vector>

#include "common/check.h"
#include "common/isa.h"
#include "common/parallel.h"
#include "common/threads.h"
#include "conv/conv-registry.h"
#include "conv/convc-kernels.h"
#include "gemm/gemm-config.h"

namespace py = pybind11;

void bind_config(py::module_& m) {
  using namespace fc;
  m.def("active_isa", [] { return std::string(isa_name(active_isa())); });
  m.def("best_isa", [] { return std::string(isa_name(best_supported_isa())); });
  m.def("available_isas", [] {
    std::vector<std::string> out;
    for (int i = 0; i <= static_cast<int>(best_supported_isa()); ++i) out.push_back(isa_name(static_cast<Isa>(i)));
    return out;
  });
  m.def("set_isa", [](const std::string& name) { set_active_isa(isa_from_name(name)); });
  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads);
  m.def("pool_hold", &pool_hold, "Keeps (True) or stops keeping (False) the task pool's workers spinning.");
  m.def(
      "_parallel_once",
      [](size_t ntasks, int nthreads) {
        FC_CHECK(ntasks <= (size_t{1} << 26) && nthreads >= 1, "at most 2^26 tasks and at least one thread");
        std::vector<uint8_t> runs(ntasks, 0);
        {
          py::gil_scoped_release release;
          parallel_for(ntasks, nthreads, [&](size_t i) { ++runs[i]; });
        }
        size_t once = 0;
        for (uint8_t r : runs) once += r == 1;
        return once;
      },
      py::arg("ntasks"), py::arg("nthreads"),
      "Testing aid: how many of the ntasks tasks of one parallel_for ran exactly once (all, when the pool is right).");
  m.def(
      "gemm_kernel",
      [](const std::string& isa, size_t rows) {
        const GemmConfig& c = gemm_config(isa_from_name(isa));
        return std::string((rows ? gemm_config_for_rows(c, rows) : c).ukernel_name);
      },
      py::arg("isa"), py::arg("rows") = 0,
      "The GEMM micro-kernel of an ISA level; with rows, the one a product of that many rows runs when its A "
      "is packed per call (a rows variant where it pads fewer rows).");
  m.def(
      "gemm_padded_rows",
      [](const std::string& isa, size_t m, bool a_per_call) {
        const GemmConfig& c = gemm_config(isa_from_name(isa));
        const GemmConfig& r = a_per_call ? gemm_config_for_rows(c, m) : c;
        return py::make_tuple(gemm_padded_rows(m, r), r.mr);
      },
      py::arg("isa"), py::arg("m"), py::arg("a_per_call"),
      "(rows, MR): what a product of m rows costs in tile rows, and the tile height it runs; a_per_call: A "
      "packed per call or read in place (a rows variant may run), else packed once (weights).");
  m.def(
      "even_split",
      [](size_t total, size_t want, size_t step, size_t grain) {
        const EvenSplit s(total, want, step, grain);
        std::vector<size_t> bounds;
        for (size_t i = 0; i <= s.tasks; ++i) bounds.push_back(s.begin(i));
        return bounds;
      },
      py::arg("total"), py::arg("want"), py::arg("step"), py::arg("grain") = 1,
      "The bounds of the tasks the blocked convolutions cut [0, total) into (common/parallel.h EvenSplit).");
  m.def(
      "gemm_blocking",
      [](const std::string& isa) {
        const GemmConfig& c = gemm_config(isa_from_name(isa));
        py::dict d;
        d["mr"] = c.mr, d["nr"] = c.nr, d["kc"] = c.kc, d["mc"] = c.mc, d["nc"] = c.nc;
        return d;
      },
      py::arg("isa"), "The GEMM's register tile (mr x nr) and cache blocks (kc, mc, nc) for an ISA level.");
  m.def(
      "convc_blocking",
      [](const std::string& isa) {
        const ConvcKernels& k = FC_KERNEL_FOR_ISA(isa_from_name(isa), f32_convc_kernels)();
        py::dict d;
        d["preferred_cb"] = k.preferred_cb;
        d["max_rp"] = std::vector<int>(k.max_rp, k.max_rp + kConvcMaxCB);
        return d;
      },
      py::arg("isa"),
      "The blocked direct kernel's tiles for an ISA level: output blocks per group (preferred_cb) and the most "
      "positions a tile of cb blocks holds (max_rp[cb - 1]).");
  m.def(
      "cost_coefficients", [](const std::string& isa) { return fc::cost_coefficients(isa_from_name(isa)); },
      py::arg("isa"), "The cost model's fitted (term, seconds per unit) pairs for an ISA level (conv-cost.cc).");
#if defined(__clang__)
  m.attr("compiler") = "clang " __clang_version__;
#elif defined(__GNUC__)
  m.attr("compiler") = "gcc " __VERSION__;
#else
  m.attr("compiler") = "unknown";
#endif
}

// Measurement helpers for bench/: the machine's fp32 FMA peak (csrc/bench/).
#include <pybind11/pybind11.h>

#include "bench/core-latency.h"
#include "bench/fma-peak.h"
#include "common/threads.h"

namespace py = pybind11;

void bind_bench(py::module_& m) {
  m.def(
      "measure_fma_peak",
      [](double seconds, int threads) {
        if (threads <= 0) threads = fc::num_threads();
        py::gil_scoped_release release;
        return fc::measure_fma_peak(seconds, threads);
      },
      py::arg("seconds") = 0.5, py::arg("threads") = 0,
      "Measured fp32 FMA peak in GFLOP/s of the active ISA on `threads` threads (0: fastconv's thread count).");
  m.def(
      "measure_core_latency",
      [](double seconds) {
        py::gil_scoped_release release;
        return fc::measure_core_latency(seconds);
      },
      py::arg("seconds") = 0.2,
      "Median round trip in ns of a cache line bounced between two pinned threads (0 with fewer than two CPUs).");
}

// Measures this machine's fp32 FMA peak with the active ISA's probe: every thread runs
// the probe in short bursts until the time is up. Each thread's rate is its flops over
// its own CPU time (CLOCK_THREAD_CPUTIME_ID), and the peak is their sum: what the cores
// can do while they run, even when other processes share the machine (on a quiet
// machine this equals flops / wall time).
#include <time.h>

#include <chrono>
#include <thread>
#include <vector>

#include "bench/fma-peak.h"
#include "common/check.h"
#include "common/isa.h"

namespace fc {
namespace {

fma_peak_fn peak_kernel(Isa isa) {
  return FC_KERNEL_FOR_ISA(isa, f32_fma_peak);
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

double measure_fma_peak(double seconds, int threads) {
  FC_CHECK(seconds > 0 && seconds <= 60, "seconds must be in (0, 60], got ", seconds);
  FC_CHECK(threads >= 1 && threads <= 4096, "threads must be >= 1, got ", threads);
  const fma_peak_fn kernel = peak_kernel(active_isa());
  using clock = std::chrono::steady_clock;
  constexpr size_t kBurst = 1 << 16;  // ~0.1-1 ms per burst: the clock is read rarely
  float sink = 0.f;
  kernel(kBurst, &sink);  // warm-up: clocks ramp up, code is paged in
  // Plain threads, not the task pool: every probe must hold a core for the whole time.
  std::vector<double> rates(threads, 0.0);
  std::vector<float> sinks(threads, 0.f);
  const auto t0 = clock::now();
  auto probe = [&](int t) {
    uint64_t flops = 0;
    const double c0 = thread_cpu_seconds();
    while (std::chrono::duration<double>(clock::now() - t0).count() < seconds) flops += kernel(kBurst, &sinks[t]);
    const double cpu = thread_cpu_seconds() - c0;
    if (cpu > 0) rates[t] = static_cast<double>(flops) / cpu;
  };
  std::vector<std::thread> team;
  for (int t = 1; t < threads; ++t) team.emplace_back(probe, t);
  probe(0);
  for (auto& th : team) th.join();
  double rate = 0.0;  // flops per CPU-second, summed over threads
  for (int t = 0; t < threads; ++t) {
    rate += rates[t];
    sink += sinks[t];
  }
  volatile float keep = sink;
  (void)keep;
  return rate * 1e-9;
}

}  // namespace fc

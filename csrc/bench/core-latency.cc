// Two threads pass a counter back and forth through one atomic (each waits for the other's
// increment), pinned to two CPUs so the line crosses between the same two cores every time;
// the median over bursts keeps a descheduled burst from counting.
#include "bench/core-latency.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/check.h"

namespace fc {
namespace {

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace

double measure_core_latency(double seconds) {
  FC_CHECK(seconds > 0 && seconds <= 60, "seconds must be in (0, 60], got ", seconds);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return 0.0;
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  if (cpus.size() < 2) return 0.0;

  constexpr int kBounces = 20000;  // per burst: a few ms even across dies
  alignas(64) std::atomic<int> turn{0};
  std::atomic<bool> stop{false};
  // The partner answers every odd value with the next even one until told to stop.
  std::thread partner([&] {
    pin_to(cpus[1]);
    int seen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const int v = turn.load(std::memory_order_acquire);
      if (v != seen && (v & 1)) {
        turn.store(v + 1, std::memory_order_release);
        seen = v + 1;
      }
    }
  });
  cpu_set_t original;
  const bool restore = pthread_getaffinity_np(pthread_self(), sizeof(original), &original) == 0;
  pin_to(cpus[0]);
  using clock = std::chrono::steady_clock;
  std::vector<double> bursts;
  const auto t0 = clock::now();
  int v = 0;
  do {
    const auto b0 = clock::now();
    for (int i = 0; i < kBounces; ++i) {
      turn.store(++v, std::memory_order_release);
      while (turn.load(std::memory_order_acquire) != v + 1) {
      }
      ++v;
    }
    bursts.push_back(std::chrono::duration<double, std::nano>(clock::now() - b0).count() / kBounces);
  } while (std::chrono::duration<double>(clock::now() - t0).count() < seconds);
  stop.store(true, std::memory_order_relaxed);
  partner.join();
  if (restore) pthread_setaffinity_np(pthread_self(), sizeof(original), &original);
  std::nth_element(bursts.begin(), bursts.begin() + bursts.size() / 2, bursts.end());
  return bursts[bursts.size() / 2];
}

}  // namespace fc

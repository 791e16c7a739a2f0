// The task pool behind parallel_for (see parallel.h for why it is not OpenMP).
//
// One 64-bit word holds the job generation (high 16 bits) and the unclaimed tasks, a range
// [front, back) (24 bits each); a task is claimed by a compare-and-swap that also checks the
// generation, so a worker that slept through a whole job can never run a task of the next
// one with the previous job's function. The caller claims from the front and the first
// worker from the back: on two threads each takes a contiguous half of every job (split
// where they meet, so still balanced dynamically), the same half job after job. A layer
// then mostly reads what the same core wrote in the layer before (the same column, tile or
// plane range), which matters when the cores do not share a cache (bench/RESULTS.md).
// Workers spin briefly after a job (the next GEMM of a network usually follows within
// microseconds) and then sleep, except while a caller holds them (a network's run: see
// parallel.h, pool_hold).
#include "common/parallel.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FC_PAUSE() _mm_pause()
#else
#define FC_PAUSE() std::this_thread::yield()
#endif

namespace fc {
namespace {

constexpr int kSpinBeforeSleep = 4000;  // pauses (~40-60 us on Zen 4) before a worker sleeps

// The job word: generation | back | front.
constexpr int kBackShift = 24, kGenShift = 48;
constexpr uint64_t kTaskMask = (uint64_t{1} << 24) - 1;
constexpr uint32_t kGenMask = 0xFFFF;
constexpr size_t kMaxJobTasks = kTaskMask;  // larger jobs run as several

class Pool {
 public:
  // Runs the job; returns false (having run nothing) if the pool is busy with another call.
  bool run(size_t ntasks, int nthreads, parallel_task_fn fn, void* ctx) {
    std::unique_lock<std::mutex> busy(run_mu_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    grow(nthreads - 1);
    fn_.store(fn, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    helpers_.store(nthreads - 1, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    uint32_t gen;
    {
      std::lock_guard<std::mutex> lk(sleep_mu_);
      gen = ++gen_ & kGenMask;
      state_.store(static_cast<uint64_t>(gen) << kGenShift | static_cast<uint64_t>(ntasks) << kBackShift,
                   std::memory_order_release);
    }
    sleep_cv_.notify_all();
    size_t mine = work(gen, false);
    // Wait only for tasks others claimed and are still running.
    for (int spins = 0; done_.load(std::memory_order_acquire) + mine < ntasks; ++spins) {
      if (spins < 100000) FC_PAUSE(); else std::this_thread::yield();
    }
    return true;
  }

  // While any hold is active, idle workers spin instead of sleeping.
  void hold(bool on) {
    {
      std::lock_guard<std::mutex> lk(sleep_mu_);
      holds_ += on ? 1 : -1;
    }
    if (on) sleep_cv_.notify_all();  // start waking sleepers now, before the first job
  }

 private:
  // Claims and runs tasks of job `gen` (from the front or the back of the unclaimed range)
  // until none are left; returns how many it ran.
  size_t work(uint32_t gen, bool from_back) {
    size_t ran = 0;
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(s >> kGenShift) != gen) break;
      const size_t front = static_cast<size_t>(s & kTaskMask), back = static_cast<size_t>((s >> kBackShift) & kTaskMask);
      if (front >= back) break;
      const uint64_t claimed = from_back ? s - (uint64_t{1} << kBackShift) : s + 1;
      if (!state_.compare_exchange_weak(s, claimed, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      fn_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), from_back ? back - 1 : front);
      ++ran;
      s = state_.load(std::memory_order_acquire);
    }
    return ran;
  }

  void grow(int want) {
    while (static_cast<int>(workers_) < want) {
      const int id = static_cast<int>(workers_++);
      std::thread([this, id] { worker(id); }).detach();  // the pool lives for the process
    }
  }

  void worker(int id) {
    uint32_t seen = 0;
    for (;;) {
      uint32_t gen = current_gen();
      for (int i = 0; gen == seen && i < kSpinBeforeSleep; ++i) {
        FC_PAUSE();
        gen = current_gen();
      }
      // Held: spin on plain loads. PAUSE in a long loop makes the hypervisor deschedule this
      // vCPU (pause-loop exiting), and a held run measured 1.8x slower with it.
      while (gen == seen && holds_.load(std::memory_order_relaxed) > 0) gen = current_gen();
      if (gen == seen) {
        std::unique_lock<std::mutex> lk(sleep_mu_);
        sleep_cv_.wait(lk, [&] { return (gen_ & kGenMask) != seen || holds_.load(std::memory_order_relaxed) > 0; });
        gen = gen_ & kGenMask;
      }
      if (gen == seen) continue;  // woken by a hold: spin for the job
      seen = gen;
      if (id >= helpers_.load(std::memory_order_relaxed)) continue;  // this job wants fewer threads
      size_t ran = work(gen, id == 0);
      if (ran) done_.fetch_add(ran, std::memory_order_release);
    }
  }

  uint32_t current_gen() const { return static_cast<uint32_t>(state_.load(std::memory_order_acquire) >> kGenShift); }

  std::mutex run_mu_;  // one job at a time
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  uint32_t gen_ = 0;  // guarded by sleep_mu_; its low 16 bits are the generation in state_
  size_t workers_ = 0;
  std::atomic<uint64_t> state_{0};
  std::atomic<parallel_task_fn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int> helpers_{0};
  std::atomic<size_t> done_{0};
  std::atomic<int> holds_{0};  // changed under sleep_mu_
};

Pool& pool() {
  // Leaked on purpose: detached workers may still read it while the process exits. A
  // forked child has none of the parent's threads, so it starts a pool of its own.
  static std::atomic<Pool*> instance{nullptr};
  static std::atomic<pid_t> owner{0};
  static std::mutex mu;
  Pool* p = instance.load(std::memory_order_acquire);
  if (p && owner.load(std::memory_order_relaxed) == getpid()) return *p;
  std::lock_guard<std::mutex> lk(mu);
  if (!instance.load() || owner.load() != getpid()) {
    instance.store(new Pool(), std::memory_order_release);
    owner.store(getpid());
  }
  return *instance.load();
}

}  // namespace

void pool_hold(bool on) { pool().hold(on); }

void parallel_run(size_t ntasks, int nthreads, parallel_task_fn fn, void* ctx) {
  if (ntasks == 0) return;
  if (ntasks > kMaxJobTasks) {  // beyond the job word's range: consecutive jobs of at most kMaxJobTasks
    struct Slice {
      parallel_task_fn fn;
      void* ctx;
      size_t base;
    };
    for (size_t base = 0; base < ntasks; base += kMaxJobTasks) {
      Slice slice{fn, ctx, base};
      parallel_run(std::min(kMaxJobTasks, ntasks - base), nthreads,
                   [](void* c, size_t i) { const Slice* s = static_cast<const Slice*>(c); s->fn(s->ctx, s->base + i); },
                   &slice);
    }
    return;
  }
  if (nthreads > static_cast<int>(ntasks)) nthreads = static_cast<int>(ntasks);
  if (nthreads > 1 && pool().run(ntasks, nthreads, fn, ctx)) return;
  for (size_t i = 0; i < ntasks; ++i) fn(ctx, i);
}

}  // namespace fc

// parallel_for: runs tasks 0..n-1 on up to `nthreads` threads of one persistent pool.
//
// Why not an OpenMP parallel region: a region ends in a barrier that waits for every
// thread of the team, so on a loaded machine (more runnable threads than cores, or the
// spinning workers of another library in the same process) one descheduled worker
// stalls the whole call for a scheduler time slice (4 ms here, against ~0.2 ms of work
// for a 256^3 GEMM). Here the calling thread claims tasks from a shared range along with
// the workers (it from the front, the first worker from the back) and waits only for tasks
// that were claimed: a worker that wakes late finds nothing left and costs nothing
// (onnxruntime's pool works the same way).
//
// Tasks must not throw. Calls from several threads at once are safe: the pool serves one
// call at a time and any other call (or a nested one) runs its tasks on its own thread.
#pragma once
#include <cstddef>
#include <type_traits>

namespace fc {

using parallel_task_fn = void (*)(void* ctx, size_t task);

void parallel_run(size_t ntasks, int nthreads, parallel_task_fn fn, void* ctx);

// Between jobs the pool's workers spin ~50 us, then sleep. A network's run holds them
// spinning from its start to its end (as onnxruntime's pool spins during a run): on this
// VM a core left idle for milliseconds takes ~1 ms to join the next job, which a 1.8 ms
// layer after a few small single-threaded ones then runs without. Holds nest (one per
// concurrent run); the first also wakes sleeping workers.
void pool_hold(bool on);

template <class F>
void parallel_for(size_t ntasks, int nthreads, F&& f) {
  using Fn = std::remove_reference_t<F>;
  parallel_run(ntasks, nthreads, [](void* ctx, size_t i) { (*static_cast<Fn*>(ctx))(i); },
               const_cast<void*>(static_cast<const void*>(&f)));
}

// A range [0, total) cut into tasks for threads that claim them from both ends (parallel_for):
// the task count is a multiple of `step` (the thread count, or what makes images x tasks one)
// and the pieces are equal to within `grain` (their bounds are multiples of it, where a kernel
// works in units: a tile's positions, a GEMM panel's rows), so equal task counts are equal
// work. Pieces rounded up to one size leave a short last one: 784 positions as 7 x 108 + 36
// kept one of two cores idle for 9% of a layer. Piece i is [begin(i), begin(i + 1)), maybe empty.
struct EvenSplit {
  EvenSplit(size_t total, size_t want, size_t step, size_t grain = 1)
      : total(total), grain(grain > 0 ? grain : 1) {
    step = step > 0 ? step : 1;
    const size_t most = (total + this->grain - 1) / this->grain;  // no piece smaller than a grain
    tasks = (want > 0 ? want : 1) + step - 1;
    tasks -= tasks % step;
    if (tasks > most) tasks = most >= step ? most - most % step : (most > 0 ? most : 1);
  }
  size_t begin(size_t i) const {
    if (i >= tasks) return total;
    const size_t at = (i * total / tasks + grain / 2) / grain * grain;
    return at < total ? at : total;
  }
  size_t total, grain, tasks;
};

// f(i) for items 0..n-1 of about `cost` floats of work each, run as tasks of consecutive
// items: each task at least kMinTaskFloats of work where that still leaves ~4 tasks per
// thread (claiming a task and the cache misses of starting one cost more than a small plane
// of pooling), and all on the calling thread when the whole is below one task's worth.
constexpr size_t kMinTaskFloats = 16384;

template <class F>
void parallel_for_items(size_t n, size_t cost, int nthreads, F&& f) {
  const size_t nt = static_cast<size_t>(nthreads > 1 ? nthreads : 1);
  cost = cost > 0 ? cost : 1;
  const size_t per_task = (kMinTaskFloats + cost - 1) / cost, most = n / (4 * nt);
  const size_t group = per_task < most ? per_task : (most > 0 ? most : 1);
  const int threads = n * cost > kMinTaskFloats ? nthreads : 1;
  parallel_for((n + group - 1) / group, threads, [&](size_t t) {
    for (size_t i = t * group, end = (t + 1) * group < n ? (t + 1) * group : n; i < end; ++i) f(i);
  });
}

}  // namespace fc

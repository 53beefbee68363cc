// The ThreadPool: persistent workers woken per job through a generation counter. Waiters
// (workers waiting for a job, the caller waiting for the workers) spin a few microseconds
// and then sleep on a futex, so a descheduled partner costs a wake-up, not a spinning core.
#include "base/thread_pool.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "base/error.h"

namespace bamba {
namespace {

// Long enough to catch the next job of a tight sequence of parallel loops, short enough that
// a sleeping partner is noticed before it costs much on a shared machine.
constexpr auto kSpinTime = std::chrono::microseconds(5);

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr,
          nullptr, 0);
}

// Spins until pred(word) fails or the spin time is over; returns the last value read.
template <class Pred>
uint32_t spin_while(const std::atomic<uint32_t>& word, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      const uint32_t now = word.load(std::memory_order_acquire);
      if (!pred(now)) return now;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return word.load(std::memory_order_acquire);
  }
}

uint32_t spin_while_equal(const std::atomic<uint32_t>& word, uint32_t value) {
  return spin_while(word, [value](uint32_t now) { return now == value; });
}

void spin_while_nonzero(const std::atomic<uint32_t>& word) {
  spin_while(word, [](uint32_t now) { return now != 0; });
}

// Set while a thread runs a share of a job: a parallel call from there runs serially.
thread_local bool t_inside_job = false;

}  // namespace

struct ThreadPool::Impl {
  using JobFn = void (*)(const void* ctx, int thread_index, int n_threads);

  int n_threads = 1;
  std::vector<std::thread> workers;
  std::mutex call_mutex;  // one job at a time, whichever thread submits it

  // The job being run; written by the caller before the generation bump publishes it.
  JobFn job_fn = nullptr;
  const void* job_ctx = nullptr;
  bool stopping = false;
  std::vector<std::exception_ptr> worker_errors;  // [n_threads], slot 0 unused

  std::atomic<uint32_t> generation{0};       // futex word the workers sleep on
  std::atomic<uint32_t> sleeping_workers{0};
  std::atomic<uint32_t> pending{0};          // workers that have not finished the job; futex word
  std::atomic<uint32_t> caller_sleeping{0};

  void worker_loop(int index) {
    uint32_t seen = 0;
    for (;;) {
      uint32_t now = spin_while_equal(generation, seen);
      while (now == seen) {
        sleeping_workers.fetch_add(1);
        futex_wait(generation, seen);
        sleeping_workers.fetch_sub(1);
        now = generation.load(std::memory_order_acquire);
      }
      seen = now;
      if (stopping) return;
      t_inside_job = true;
      try {
        job_fn(job_ctx, index, n_threads);
      } catch (...) {
        worker_errors[index] = std::current_exception();
      }
      t_inside_job = false;
      if (pending.fetch_sub(1) == 1 && caller_sleeping.load() != 0) futex_wake_all(pending);
    }
  }

  void wait_for_workers() {
    spin_while_nonzero(pending);
    for (uint32_t left = pending.load(); left != 0; left = pending.load()) {
      caller_sleeping.store(1);
      futex_wait(pending, left);  // returns at once if a worker finished meanwhile
      caller_sleeping.store(0);
    }
  }

  // Runs fn(ctx, i, n) on every thread i of the pool; rethrows the first exception.
  void run(JobFn fn, const void* ctx) {
    if (n_threads == 1 || t_inside_job) {
      const bool outer = t_inside_job;
      t_inside_job = true;
      try {
        fn(ctx, 0, 1);
      } catch (...) {
        t_inside_job = outer;
        throw;
      }
      t_inside_job = outer;
      return;
    }
    std::lock_guard lock(call_mutex);
    job_fn = fn;
    job_ctx = ctx;
    pending.store(uint32_t(n_threads - 1));
    generation.fetch_add(1);
    if (sleeping_workers.load() != 0) futex_wake_all(generation);

    std::exception_ptr error;
    t_inside_job = true;
    try {
      fn(ctx, 0, n_threads);
    } catch (...) {
      error = std::current_exception();
    }
    t_inside_job = false;
    wait_for_workers();
    for (int i = 1; i < n_threads; ++i) {
      if (!error && worker_errors[i]) error = worker_errors[i];
      worker_errors[i] = nullptr;
    }
    if (error) std::rethrow_exception(error);
  }
};

ThreadPool::ThreadPool(int n_threads) : impl_(std::make_unique<Impl>()) {
  if (n_threads < 1) fail("ThreadPool: thread count must be at least 1, got ", n_threads);
  impl_->n_threads = n_threads;
  impl_->worker_errors.resize(size_t(n_threads));
  impl_->workers.reserve(size_t(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) {
    impl_->workers.emplace_back([impl = impl_.get(), i] { impl->worker_loop(i); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(impl_->call_mutex);
    impl_->stopping = true;
    impl_->generation.fetch_add(1);
    futex_wake_all(impl_->generation);
  }
  for (auto& worker : impl_->workers) worker.join();
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n == 1 || impl_->n_threads == 1 || t_inside_job) {
    fn(0, n);
    return;
  }
  struct Range {
    int64_t n;
    const std::function<void(int64_t, int64_t)>* fn;
  } range{n, &fn};
  impl_->run(
      [](const void* ctx, int i, int n_threads) {
        const auto& r = *static_cast<const Range*>(ctx);
        const int64_t begin = r.n * i / n_threads;
        const int64_t end = r.n * (i + 1) / n_threads;
        if (begin < end) (*r.fn)(begin, end);
      },
      &range);
}

void ThreadPool::run_on_all(const std::function<void(int, int)>& fn) {
  impl_->run(
      [](const void* ctx, int i, int n_threads) {
        (*static_cast<const std::function<void(int, int)>*>(ctx))(i, n_threads);
      },
      &fn);
}

int default_thread_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return int(std::max(1u, std::thread::hardware_concurrency()));
  }
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace bamba

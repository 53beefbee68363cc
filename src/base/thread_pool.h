// The process-wide worker pool: every parallel loop of the engine runs here, so the two
// cores are never oversubscribed. Workers spin briefly, then block, because the machines
// are shared and a spinning partner that the OS has descheduled stalls the whole op.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace bamba {

class ThreadPool {
 public:
  // n_threads counts the calling thread: a pool of 2 starts one worker.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  [[nodiscard]] int size() const;

  // Calls fn(begin, end) on disjoint ranges covering [0, n), split evenly across the threads
  // (the caller takes a share too); returns when all ranges are done. Not reentrant: a
  // nested call from inside fn runs serially on the calling thread.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

  // Calls fn(thread_index, n_threads) once on every thread of the pool.
  void run_on_all(const std::function<void(int thread_index, int n_threads)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Default thread count: the CPUs this process may run on.
[[nodiscard]] int default_thread_count();

}  // namespace bamba

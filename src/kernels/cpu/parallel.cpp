// Generic-ISA implementation of the variants' parallel loops and scratch memory.
#include "kernels/cpu/parallel.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

namespace bamba::kernels {

void parallel_ranges(ThreadPool& pool, int64_t n, RangeFn fn, const void* ctx) {
  pool.parallel_for(n, [fn, ctx](int64_t begin, int64_t end) { fn(ctx, begin, end); });
}

void parallel_units(ThreadPool& pool, int64_t n, RangeFn fn, const void* ctx) {
  if (n <= 0) return;
  std::atomic<int64_t> next{0};
  pool.run_on_all([&](int, int) {
    for (int64_t unit = next.fetch_add(1); unit < n; unit = next.fetch_add(1)) fn(ctx, unit, unit + 1);
  });
}

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

struct Scratch {
  std::unique_ptr<float, FreeDeleter> data;
  size_t capacity = 0;
};

thread_local Scratch t_scratch[2];

}  // namespace

float* thread_scratch(int slot, size_t n_floats) {
  Scratch& s = t_scratch[slot];
  if (n_floats > s.capacity) {
    const size_t bytes = (n_floats * sizeof(float) + 63) / 64 * 64;
    s.data.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    if (!s.data) throw std::bad_alloc();
    s.capacity = bytes / sizeof(float);
  }
  return s.data.get();
}

}  // namespace bamba::kernels

// Parallel loops and per-thread scratch memory for the SIMD variants. These live in a
// generically compiled file: a variant compiled with AVX-512 flags must not emit shared
// (inline or template) library code that the linker could pick for the rest of the program,
// so variant files use only intrinsics, their own internal functions and these entry points.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/thread_pool.h"

namespace bamba::kernels {

using RangeFn = void (*)(const void* ctx, int64_t begin, int64_t end);

// fn(ctx, begin, end) over even contiguous ranges of [0, n), one per thread.
void parallel_ranges(ThreadPool& pool, int64_t n, RangeFn fn, const void* ctx);
// fn(ctx, unit, unit + 1) for every unit of [0, n), handed out one at a time to whichever
// thread is free (for units of uneven cost).
void parallel_units(ThreadPool& pool, int64_t n, RangeFn fn, const void* ctx);

// Typed front ends; F is a lambda local to the calling file.
template <class F>
void parallel_ranges(ThreadPool& pool, int64_t n, const F& f) {
  parallel_ranges(pool, n, [](const void* ctx, int64_t b, int64_t e) { (*static_cast<const F*>(ctx))(b, e); }, &f);
}
template <class F>
void parallel_units(ThreadPool& pool, int64_t n, const F& f) {
  parallel_units(pool, n, [](const void* ctx, int64_t b, int64_t) { (*static_cast<const F*>(ctx))(b); }, &f);
}

// Below this many multiply-adds a matmul runs on the calling thread alone: waking the pool
// would cost more than it saves.
inline constexpr int64_t kMinParallelWork = int64_t(1) << 15;

// body(j, n_rows) for the tiles of `tile_rows` weight rows covering [0, rows) (the last one
// may be shorter), the tiles split across the threads when `multiply_adds` reaches
// kMinParallelWork. The row-splitting loop of the GEMV-style matmuls.
template <class Body>
void over_row_tiles(ThreadPool& pool, int64_t rows, int64_t tile_rows, int64_t multiply_adds, const Body& body) {
  const int64_t n_tiles = (rows + tile_rows - 1) / tile_rows;
  const auto run = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t j = t * tile_rows;
      body(j, rows - j < tile_rows ? rows - j : tile_rows);
    }
  };
  if (multiply_adds < kMinParallelWork) {
    run(0, n_tiles);
  } else {
    parallel_ranges(pool, n_tiles, run);
  }
}

// At least n_floats of this thread's scratch memory for `slot` (0 or 1), 64-byte aligned;
// valid until the same thread asks for the same slot again.
float* thread_scratch(int slot, size_t n_floats);

}  // namespace bamba::kernels

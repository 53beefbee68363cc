// This machine's limits, measured for `bamba bench --roofline`: memory read bandwidth and
// the register-only peak rate of the best bf16 and int8 dot-product instructions compiled
// in and supported (AMX tiles, else AVX-512 BF16 / VNNI).
#pragma once

#include <cstdint>
#include <string>

#include "base/thread_pool.h"

namespace bamba::kernels {

struct PeakRate {
  double per_s = 0;          // FLOP/s (bf16) or OP/s (int8); 0 when no such instruction
  std::string isa = "none";  // the instruction used
};

// Bytes per second read from a `total_bytes` buffer split across the pool's threads, each
// walking its share as 8 interleaved streams (the way a GEMV walks weight rows).
[[nodiscard]] double measure_read_bandwidth(ThreadPool& pool, int64_t total_bytes);
[[nodiscard]] PeakRate measure_peak_bf16(ThreadPool& pool);
[[nodiscard]] PeakRate measure_peak_int8(ThreadPool& pool);

}  // namespace bamba::kernels

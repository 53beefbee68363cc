// The roofline measurements: a read sweep in generic code, and the peak loops of the ISA
// variants (cpu/peak_*.cpp) run on every thread of the pool for a fixed time.
#include "kernels/roofline.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ops/s of `loop` on every thread at once, after a calibration run; the best of 3.
PeakRate run_peak(ThreadPool& pool, double (*loop)(int64_t), const char* isa) {
  if (loop == nullptr) return {};
  int64_t iterations = 1 << 14;
  for (;;) {  // grow until one run takes 50 ms
    const double start = now_s();
    loop(iterations);
    if (now_s() - start > 0.05) break;
    iterations *= 2;
  }
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> ops(size_t(pool.size()));
    const double start = now_s();
    pool.run_on_all([&](int thread, int) { ops[size_t(thread)] = loop(iterations); });
    const double seconds = now_s() - start;
    double total = 0;
    for (double v : ops) total += v;
    best = std::max(best, total / seconds);
  }
  return {best, isa};
}

}  // namespace

double measure_read_bandwidth(ThreadPool& pool, int64_t total_bytes) {
  constexpr int kStreams = 8;
  const int64_t words = total_bytes / int64_t(sizeof(uint64_t));
  const std::unique_ptr<uint64_t[]> buffer(new uint64_t[size_t(words)]);
  pool.parallel_for(words, [&](int64_t begin, int64_t end) {
    std::memset(buffer.get() + begin, 1, size_t(end - begin) * sizeof(uint64_t));
  });
  std::vector<double> rates;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<uint64_t> sums(size_t(pool.size()));
    const double start = now_s();
    pool.run_on_all([&](int thread, int n_threads) {
      const int64_t share = words / n_threads, begin = thread * share, stream_len = share / kStreams;
      const uint64_t* base = buffer.get() + begin;
      uint64_t acc[kStreams] = {};
      for (int64_t i = 0; i < stream_len; i += 8) {
        for (int s = 0; s < kStreams; ++s) {
          const uint64_t* p = base + s * stream_len + i;
          acc[s] += p[0] ^ p[1] ^ p[2] ^ p[3] ^ p[4] ^ p[5] ^ p[6] ^ p[7];
        }
      }
      uint64_t total = 0;
      for (uint64_t a : acc) total += a;
      sums[size_t(thread)] = total;
    });
    const double seconds = now_s() - start;
    volatile uint64_t sink = sums[0];  // the sums must be computed
    (void)sink;
    rates.push_back(double(words / pool.size() / kStreams * kStreams * pool.size()) * sizeof(uint64_t) / seconds);
  }
  return *std::max_element(rates.begin(), rates.end());
}

PeakRate measure_peak_bf16(ThreadPool& pool) {
#if defined(BAMBA_KERNELS_X86)
  const CpuFeatures& f = cpu_features();
  if (f.amx_bf16) return run_peak(pool, amx::peak_loop_bf16, "amx-bf16 tdpbf16ps");
  if (f.avx512_bf16) return run_peak(pool, avx512bf16::peak_loop_bf16, "avx512-bf16 vdpbf16ps");
#endif
  return run_peak(pool, nullptr, "none");
}

PeakRate measure_peak_int8(ThreadPool& pool) {
#if defined(BAMBA_KERNELS_X86)
  const CpuFeatures& f = cpu_features();
  if (f.amx_int8) return run_peak(pool, amx::peak_loop_int8, "amx-int8 tdpbusd");
  if (f.avx512_vnni && f.avx512_bf16) return run_peak(pool, avx512bf16::peak_loop_int8, "avx512-vnni vpdpbusd");
#endif
  return run_peak(pool, nullptr, "none");
}

}  // namespace bamba::kernels

// The op timers: totals in relaxed atomics, since ops may be called from any thread.
#include "kernels/op_profile.h"

#include <atomic>
#include <chrono>

namespace bamba::kernels {
namespace {

std::atomic<bool> g_on{false};
std::array<std::atomic<int64_t>, kOpClassCount> g_ns{};
std::atomic<double> g_gemm_flops{0};
std::atomic<double> g_gemm_weight_bytes{0};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void set_op_profiling(bool on) { g_on.store(on, std::memory_order_relaxed); }
bool op_profiling() { return g_on.load(std::memory_order_relaxed); }

void reset_op_profile() {
  for (auto& ns : g_ns) ns.store(0, std::memory_order_relaxed);
  g_gemm_flops.store(0, std::memory_order_relaxed);
  g_gemm_weight_bytes.store(0, std::memory_order_relaxed);
}

OpProfile op_profile() {
  OpProfile p;
  for (int i = 0; i < kOpClassCount; ++i) p.seconds[size_t(i)] = double(g_ns[size_t(i)].load()) * 1e-9;
  p.gemm_flops = g_gemm_flops.load();
  p.gemm_weight_bytes = g_gemm_weight_bytes.load();
  return p;
}

OpTimer::OpTimer(OpClass op_class, double flops, double weight_bytes)
    : op_class_(op_class),
      flops_(flops),
      weight_bytes_(weight_bytes),
      start_ns_(g_on.load(std::memory_order_relaxed) ? now_ns() : -1) {}

OpTimer::~OpTimer() {
  if (start_ns_ < 0) return;
  g_ns[size_t(op_class_)].fetch_add(now_ns() - start_ns_, std::memory_order_relaxed);
  if (flops_ > 0) g_gemm_flops.fetch_add(flops_, std::memory_order_relaxed);
  if (weight_bytes_ > 0) g_gemm_weight_bytes.fetch_add(weight_bytes_, std::memory_order_relaxed);
}

}  // namespace bamba::kernels

// Where the time of the kernel ops goes, for `bamba bench`: while profiling is on, every op
// of ops.h is timed by class (one relaxed atomic load per call when off) and matmul also
// counts its arithmetic and the weight bytes it reads.
#pragma once

#include <array>
#include <cstdint>

namespace bamba::kernels {

enum class OpClass : uint8_t { Gemm, Scan, Conv, Attention, Elementwise };
inline constexpr int kOpClassCount = 5;

struct OpProfile {
  std::array<double, kOpClassCount> seconds{};  // by OpClass
  double gemm_flops = 0;                        // 2·m·rows·cols summed over matmul calls
  double gemm_weight_bytes = 0;                 // rows·cols·dtype size summed over matmul calls
};

void set_op_profiling(bool on);
[[nodiscard]] bool op_profiling();
void reset_op_profile();
[[nodiscard]] OpProfile op_profile();

// Adds the time from construction to destruction to `op_class` when profiling is on.
class OpTimer {
 public:
  explicit OpTimer(OpClass op_class, double flops = 0, double weight_bytes = 0);
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  OpClass op_class_;
  double flops_;
  double weight_bytes_;
  int64_t start_ns_;  // -1 when profiling is off
};

}  // namespace bamba::kernels

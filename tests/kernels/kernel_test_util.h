// Shared helpers of the kernel tests: random inputs (never zeros), weight matrices in each
// dtype, element-wise comparison, and running a check under every available ISA.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/half.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace bamba::kernels::testing {

// Uniform in [lo, hi), with values too close to zero pushed away from it.
inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(n);
  for (float& v : out) {
    v = dist(gen);
    if (std::fabs(v) < 1e-3f) v = v < 0 ? -1e-3f : 1e-3f;
  }
  return out;
}

// A weight matrix stored in `dtype`, and its values widened back to f32.
struct TestMatrix {
  std::vector<float> f32;      // [rows, cols] storage when dtype is F32
  std::vector<uint16_t> half;  // [rows, cols] storage when dtype is F16 or BF16
  std::vector<float> values;   // [rows, cols] exact f32 values of the stored elements
  Matrix view;
};

inline TestMatrix make_matrix(DType dtype, int64_t rows, int64_t cols, uint32_t seed) {
  TestMatrix m;
  m.values = random_floats(size_t(rows * cols), seed);
  if (dtype == DType::F32) {
    m.f32 = m.values;
    m.view = {m.f32.data(), dtype, rows, cols};
    return m;
  }
  m.half.resize(m.values.size());
  for (size_t i = 0; i < m.values.size(); ++i) {
    m.half[i] = dtype == DType::BF16 ? f32_to_bf16(m.values[i]) : f32_to_f16(m.values[i]);
    m.values[i] = dtype == DType::BF16 ? bf16_to_f32(m.half[i]) : f16_to_f32(m.half[i]);
  }
  m.view = {m.half.data(), dtype, rows, cols};
  return m;
}

// Every element: |got - want| <= atol + rtol * |want|. Reports the worst element.
inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, float atol,
                         float rtol, const std::string& what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t worst = 0;
  double worst_excess = 0;
  size_t failures = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(double(got[i]) - double(want[i]));
    const double excess = err - (atol + rtol * std::fabs(want[i]));
    if (!(excess <= 0)) {
      ++failures;
      if (failures == 1 || excess > worst_excess || std::isnan(err)) {
        worst = i;
        worst_excess = excess;
      }
    }
  }
  EXPECT_EQ(failures, 0u) << what << ": worst at " << worst << " got " << got[worst] << " want "
                          << want[worst];
}

// Runs check() once under every ISA level available here, restoring the active one after.
template <class Check>
void for_each_isa(Check check) {
  const Isa saved = active_isa();
  for (Isa isa : available_isas()) {
    SCOPED_TRACE(std::string("isa=") + std::string(isa_name(isa)));
    set_active_isa(isa);
    check(isa);
  }
  set_active_isa(saved);
}

}  // namespace bamba::kernels::testing

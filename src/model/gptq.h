// GPTQ rounding (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative
// Pre-trained Transformers", 2022). A weight row w is rounded one column at a time; the
// rounding error of column j is spread over the columns not yet rounded so that the row's
// output on calibration inputs X changes least: with H = XᵀX (+ dampening) and U the upper
// Cholesky factor of H⁻¹ (H⁻¹ = UᵀU),
//   e_j = (w_j - ŵ_j) / U_jj,   w_k -= e_j · U_jk  for every later column k.
// Columns go in decreasing order of H's diagonal ("act order"), the most used first, so the
// error lands on the columns that matter least. Scales stay those of round-to-nearest.
#pragma once

#include <cstdint>
#include <vector>

#include "base/half.h"
#include "base/thread_pool.h"

namespace bamba {

// Dampening added to H's diagonal, as a fraction of its mean (GPTQ's default).
inline constexpr double kGptqDampening = 0.01;

struct GptqFactor {
  int64_t cols = 0;
  std::vector<int32_t> order;  // [cols] the columns in rounding order (decreasing H diagonal)
  std::vector<double> u;       // [cols, cols] U, upper triangle, rows and columns in `order`
};

// The factor of calibration inputs x ([rows, cols], bf16). Columns never used (zero in
// every row) get a unit diagonal, so they round to nearest and take no error.
[[nodiscard]] GptqFactor gptq_factor(const bf16_t* x, int64_t rows, int64_t cols, ThreadPool& pool);

// Rounds `row` ([cols]; consumed as scratch) to integers q in [lo, hi]: column c uses
// scales[c / group] (group = cols for one scale per row).
void gptq_round_row(const GptqFactor& factor, float* row, const float* scales, int64_t group, int lo, int hi,
                    int8_t* q);

}  // namespace bamba

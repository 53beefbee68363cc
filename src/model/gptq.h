// GPTQ rounding (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative
// Pre-trained Transformers", 2022). A weight row w is rounded one column at a time; the
// rounding error of column j is spread over the columns not yet rounded so that the row's
// output on calibration inputs X changes least: with H = XᵀX (+ dampening) and U the upper
// Cholesky factor of H⁻¹ (H⁻¹ = UᵀU),
//   e_j = (w_j - ŵ_j) / U_jj,   w_k -= e_j · U_jk  for every later column k.
// Columns go in decreasing order of H's diagonal ("act order"), the most used first, so the
// error lands on the columns that matter least. Scales stay those of round-to-nearest.
//
// Every O(n³) and O(rows·n²) step runs as blocks of kGptqBlock columns whose updates are f32
// matmuls (kernels::matmul), as GPTQ's "lazy batch" updates do, so that a 14336-wide weight
// of Bamba-9B takes seconds, not hours.
#pragma once

#include <cstdint>
#include <vector>

#include "base/half.h"
#include "base/thread_pool.h"

namespace bamba {

// Dampening added to H's diagonal, as a fraction of its mean (GPTQ's default).
inline constexpr double kGptqDampening = 0.01;
// Columns per block of the factorization and of the rounding's deferred updates.
inline constexpr int64_t kGptqBlock = 128;

// U, kept as the rounding reads it: for the column block [a0, a1) (in rounding order) its
// diagonal block U[a0:a1, a0:a1] (row-major, upper) and its panel U[a0:a1, a1:n]ᵀ
// ([n - a1, a1 - a0]: one row per later column, ready as a matmul weight).
struct GptqFactor {
  int64_t cols = 0;
  std::vector<int32_t> order;             // [cols] the columns in rounding order (decreasing H diagonal)
  std::vector<std::vector<float>> diag;   // per block: [b, b]
  std::vector<std::vector<float>> panel;  // per block: [cols - a1, b]
};

// The factor of calibration inputs x ([rows, cols], bf16). Columns never used (zero in
// every row) get a unit diagonal, so they take no error. An Error if H is not positive
// definite even after dampening (non-finite inputs).
[[nodiscard]] GptqFactor gptq_factor(const bf16_t* x, int64_t rows, int64_t cols, ThreadPool& pool);

// Rounds the rows of w ([rows, cols] f32) to integers q ([rows, cols])
// in [lo, hi]: row r's column c uses scales[r * (cols / group) + c / group] (group = cols
// for one scale per row).
void gptq_round_rows(const GptqFactor& factor, const float* w, int64_t rows, const float* scales, int64_t group, int lo,
                     int hi, int8_t* q, ThreadPool& pool);

}  // namespace bamba

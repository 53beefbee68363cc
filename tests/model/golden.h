// Test access to the tiny checkpoints and their float64-reference goldens
// (tests/data/bamba/<model>/golden.safetensors, golden.json), and the logits comparison
// rules of golden.json (fp32_engine / bf16_engine tolerances).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace bamba::testing {

inline std::filesystem::path model_dir(const std::string& model) {
  return std::filesystem::path(BAMBA_TEST_DATA_DIR) / "bamba" / model;
}

// Tolerances of one engine precision, from golden.json -> tolerances.
struct Tolerance {
  double atol = 0, rtol = 0, rms_rel_max = 0;
  bool bf16 = false;  // bf16 rules: also top-1 where the margin > 2*atol, and row mean |Δ| < atol/4
};

class Golden {
 public:
  explicit Golden(const std::string& model);
  [[nodiscard]] const std::vector<int64_t>& lengths() const { return lengths_; }
  [[nodiscard]] int64_t vocab() const { return vocab_; }
  [[nodiscard]] Tolerance tolerance(bool bf16) const { return bf16 ? bf16_ : fp32_; }
  [[nodiscard]] std::vector<int32_t> ids(int64_t n) const;
  [[nodiscard]] std::vector<int32_t> logits_positions(int64_t n) const;
  [[nodiscard]] std::span<const float> logits(int64_t n) const;         // [rows, V]
  [[nodiscard]] std::vector<int32_t> greedy(int64_t n) const;           // [16]
  [[nodiscard]] std::span<const float> decode_logits(int64_t n) const;  // [16, V]
  [[nodiscard]] std::vector<float> greedy_margin(int64_t n) const;      // [16]

 private:
  [[nodiscard]] const io::TensorInfo& tensor(const std::string& name) const;
  std::unique_ptr<io::SafetensorsFile> file_;
  std::vector<int64_t> lengths_;
  int64_t vocab_ = 0;
  Tolerance fp32_, bf16_;
};

// The outcome of comparing engine logits rows with golden rows.
struct LogitsCheck {
  double max_abs = 0;          // max |engine - golden|
  double rms_rel = 0;          // rms(engine - golden) / rms(golden)
  int64_t violations = 0;      // elements beyond atol + rtol*|golden|
  int64_t top1_mismatches = 0; // rows with a clear golden top-1 (gap > 2*atol) not reproduced
  double worst_row_mean = 0;   // max over rows of mean |Δ|
  std::string first_violation; // where, for the failure message
};

LogitsCheck compare_logits(std::span<const float> engine, std::span<const float> golden, int64_t vocab,
                           const Tolerance& tol);

// gtest assertion text: empty when `check` satisfies `tol`.
std::string tolerance_failure(const LogitsCheck& check, const Tolerance& tol);

// Index of the largest value.
int32_t argmax(std::span<const float> row);

}  // namespace bamba::testing

// Golden file access and the logits comparison rules (see golden.h).
#include "golden.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "io/json_file.h"

namespace bamba::testing {

namespace {
Tolerance read_tolerance(const nlohmann::json& t, bool bf16) {
  Tolerance tol;
  tol.atol = t.at("logits_atol").get<double>();
  tol.rtol = t.at("logits_rtol").get<double>();
  tol.rms_rel_max = t.at("logits_rms_rel_max").get<double>();
  tol.bf16 = bf16;
  return tol;
}

template <class T>
std::vector<T> copy_tensor(const io::TensorInfo& t) {
  std::vector<T> out(size_t(t.numel()));
  std::memcpy(out.data(), t.data, t.nbytes);
  return out;
}
}  // namespace

Golden::Golden(const std::string& model) {
  const std::filesystem::path dir = model_dir(model);
  file_ = io::SafetensorsFile::open(dir / "golden.safetensors");
  const nlohmann::json j = io::read_json_file(dir / "golden.json");
  lengths_ = j.at("lengths").get<std::vector<int64_t>>();
  fp32_ = read_tolerance(j.at("tolerances").at("fp32_engine"), false);
  bf16_ = read_tolerance(j.at("tolerances").at("bf16_engine"), true);
  vocab_ = tensor("logits_1").shape.at(1);
}

const io::TensorInfo& Golden::tensor(const std::string& name) const {
  const io::TensorInfo* t = file_->find(name);
  if (!t) fail("golden tensor '", name, "' missing");
  return *t;
}

std::vector<int32_t> Golden::ids(int64_t n) const { return copy_tensor<int32_t>(tensor(str_cat("ids_", n))); }
std::vector<int32_t> Golden::logits_positions(int64_t n) const {
  return copy_tensor<int32_t>(tensor(str_cat("logits_positions_", n)));
}
std::vector<int32_t> Golden::greedy(int64_t n) const { return copy_tensor<int32_t>(tensor(str_cat("greedy_", n))); }
std::vector<float> Golden::greedy_margin(int64_t n) const {
  return copy_tensor<float>(tensor(str_cat("greedy_margin_", n)));
}
std::span<const float> Golden::logits(int64_t n) const {
  const io::TensorInfo& t = tensor(str_cat("logits_", n));
  return {reinterpret_cast<const float*>(t.data), size_t(t.numel())};
}
std::span<const float> Golden::decode_logits(int64_t n) const {
  const io::TensorInfo& t = tensor(str_cat("decode_logits_", n));
  return {reinterpret_cast<const float*>(t.data), size_t(t.numel())};
}

int32_t argmax(std::span<const float> row) {
  return int32_t(std::max_element(row.begin(), row.end()) - row.begin());
}

LogitsCheck compare_logits(std::span<const float> engine, std::span<const float> golden, int64_t vocab,
                           const Tolerance& tol) {
  LogitsCheck check;
  if (engine.size() != golden.size()) {
    check.violations = 1;
    check.first_violation = str_cat("size ", engine.size(), " vs golden ", golden.size());
    return check;
  }
  double sq_diff = 0, sq_gold = 0;
  const int64_t rows = int64_t(golden.size()) / vocab;
  for (int64_t r = 0; r < rows; ++r) {
    const std::span<const float> e = engine.subspan(size_t(r * vocab), size_t(vocab));
    const std::span<const float> g = golden.subspan(size_t(r * vocab), size_t(vocab));
    double row_abs = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      const double d = std::fabs(double(e[size_t(v)]) - double(g[size_t(v)]));
      if (!(d <= tol.atol + tol.rtol * std::fabs(double(g[size_t(v)])))) {
        if (check.violations++ == 0) {
          check.first_violation = str_cat("row ", r, " col ", v, ": engine ", e[size_t(v)], " golden ", g[size_t(v)]);
        }
      }
      check.max_abs = std::max(check.max_abs, std::isnan(d) ? INFINITY : d);
      row_abs += d;
      sq_diff += d * d;
      sq_gold += double(g[size_t(v)]) * double(g[size_t(v)]);
    }
    check.worst_row_mean = std::max(check.worst_row_mean, row_abs / double(vocab));
    // top-1 must match where the golden row's own top1-top2 gap exceeds 2*atol
    std::vector<float> sorted(g.begin(), g.end());
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
    if (sorted[0] - sorted[1] > 2 * tol.atol && argmax(e) != argmax(g)) ++check.top1_mismatches;
  }
  check.rms_rel = std::sqrt(sq_diff / std::max(sq_gold, 1e-300));
  return check;
}

std::string tolerance_failure(const LogitsCheck& c, const Tolerance& tol) {
  std::string why;
  if (c.violations) why += str_cat(c.violations, " elements beyond atol+rtol*|g| (first: ", c.first_violation, "); ");
  if (!(c.rms_rel <= tol.rms_rel_max)) why += str_cat("rms_rel ", c.rms_rel, " > ", tol.rms_rel_max, "; ");
  if (c.top1_mismatches) why += str_cat(c.top1_mismatches, " rows with a different clear top-1; ");
  if (tol.bf16 && !(c.worst_row_mean < tol.atol / 4)) {
    why += str_cat("row mean |diff| ", c.worst_row_mean, " >= atol/4; ");
  }
  return why;
}

}  // namespace bamba::testing

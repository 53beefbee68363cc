// The tiny checkpoints' goldens, for runtime tests: prompt ids, greedy continuations and
// their margins.
#pragma once

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace bamba::testing {

inline std::filesystem::path tiny_model_dir(const std::string& name) {
  return std::filesystem::path(BAMBA_TEST_DATA_DIR) / "bamba" / name;
}

inline std::filesystem::path llama3_tokenizer_json() {
  return std::filesystem::path(BAMBA_TEST_DATA_DIR) / "tokenizers" / "llama3" / "tokenizer.json";
}

// A whole tensor of golden.safetensors, copied out as T (I32 -> int32_t, F32 -> float).
template <class T>
std::vector<T> golden_tensor(const io::SafetensorsFile& golden, const std::string& name) {
  const io::TensorInfo* t = golden.find(name);
  if (t == nullptr) throw std::runtime_error("golden tensor " + name + " is missing");
  std::vector<T> v(size_t(t->numel()));
  std::memcpy(v.data(), t->data, t->nbytes);
  return v;
}

inline constexpr int kGoldenLengths[] = {1, 5, 17, 64, 200};
inline constexpr double kFp32LogitsAtol = 1e-3;  // golden.json tolerances.fp32_engine.logits_atol

}  // namespace bamba::testing

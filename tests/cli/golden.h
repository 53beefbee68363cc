// Reading the golden outputs of a tiny test checkpoint (golden.safetensors + golden.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"

namespace bamba::testing {

struct Golden {
  std::unique_ptr<io::SafetensorsFile> file;
  nlohmann::json description;  // golden.json
  std::vector<int64_t> lengths;

  [[nodiscard]] static Golden open(const std::filesystem::path& model_dir);
  [[nodiscard]] std::vector<int32_t> ids(const std::string& name) const;   // I32 tensor
  [[nodiscard]] std::vector<float> floats(const std::string& name) const;  // F32 tensor
};

}  // namespace bamba::testing

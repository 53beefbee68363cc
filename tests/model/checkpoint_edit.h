// Broken checkpoints for loader tests: a copy of a tiny model in a fresh temp folder whose
// tensors and config.json can be edited before Model::load reads them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/dtype.h"

namespace bamba::testing {

// One tensor held in memory while a checkpoint is edited.
struct EditableTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;
};

class EditableCheckpoint {
 public:
  // Copies config.json, generation_config.json and the tensors of tests/data/bamba/<model>.
  explicit EditableCheckpoint(const std::string& model);
  ~EditableCheckpoint();
  EditableCheckpoint(const EditableCheckpoint&) = delete;
  EditableCheckpoint& operator=(const EditableCheckpoint&) = delete;

  nlohmann::json& config() { return config_; }
  std::vector<EditableTensor>& tensors() { return tensors_; }
  EditableTensor& tensor(const std::string& name);
  void drop(const std::string& name);
  // Converts one tensor (F32/BF16 source) to F32, F16, BF16 or F64.
  void convert(const std::string& name, DType to);

  // Writes config.json and model.safetensors; returns the folder.
  const std::filesystem::path& write();
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  nlohmann::json config_;
  std::vector<EditableTensor> tensors_;
};

}  // namespace bamba::testing

// The model registry: config.json's model_type -> the loader of that model family. Each
// family lives in its own files (bamba.cpp now; Granite-4.0-H, Nemotron-H, Mamba2 later)
// and adds one line to the table in registry.cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "model/model.h"

namespace bamba {

struct ModelFamily {
  std::string_view model_type;
  // Builds the model from the checkpoint folder and its parsed config.json.
  std::unique_ptr<Model> (*load)(const std::filesystem::path& dir, const nlohmann::json& config_json,
                                 const LoadOptions& options);
};

[[nodiscard]] std::span<const ModelFamily> model_families();

// The family for `model_type`; an Error naming `source` and listing the known types otherwise.
[[nodiscard]] const ModelFamily& find_model_family(std::string_view model_type, const std::string& source);

}  // namespace bamba

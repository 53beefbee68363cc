// Random-weight models of a real shape for speed measurements without checkpoint files:
// `bamba bench --synthetic` and `bamba serve --synthetic`.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/thread_pool.h"
#include "model/model.h"

namespace bamba::cli {

// The config.json of --synthetic NAME|PATH: bench/shapes/NAME.json of the source tree, or a
// path (anything with a '/' or ending in .json). Error naming the known shapes otherwise.
[[nodiscard]] std::filesystem::path synthetic_config_path(const std::string& name);

// A model of that shape with random weights: "f32" or "bf16" weights, or "int8" / "q4" —
// bf16 weights quantized as `bamba quantize --type int8|q4` does.
[[nodiscard]] std::unique_ptr<Model> build_synthetic_model(const std::filesystem::path& config_path,
                                                           const std::string& dtype, const LoadOptions& load,
                                                           ThreadPool& pool);

}  // namespace bamba::cli

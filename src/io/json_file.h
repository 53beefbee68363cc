// Reading JSON files (config.json, generation_config.json, tokenizer_config.json, shard
// indexes) with errors that name the file and the position of a syntax error.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bamba::io {

// Parses a whole JSON file. Besides standard JSON it accepts the bare tokens `Infinity`,
// `-Infinity` and `NaN` that Python's json module writes (HF configs contain e.g.
// `"time_step_limit": [0.0, Infinity]`); they become the corresponding doubles.
[[nodiscard]] nlohmann::json read_json_file(const std::filesystem::path& path);

// Parses JSON text with the same extensions; `path` only names the source in errors.
[[nodiscard]] nlohmann::json parse_json_text(std::string_view text, const std::filesystem::path& path);

// The reason inside a nlohmann exception, without its "[json.exception.x.n] " prefix.
[[nodiscard]] std::string json_error_reason(const nlohmann::json::exception& e);

}  // namespace bamba::io

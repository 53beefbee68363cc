// GenerationDefaults: the sampling defaults a checkpoint ships in generation_config.json
// (optional file). Every field is optional; the runtime fills what is absent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bamba {

struct GenerationDefaults {
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;  // empty when absent
  std::optional<bool> do_sample;
  std::optional<double> temperature;         // >= 0
  std::optional<int64_t> top_k;              // >= 0 (0 = off)
  std::optional<double> top_p;               // (0, 1]
  std::optional<double> min_p;               // [0, 1]
  std::optional<double> repetition_penalty;  // > 0
  std::optional<int64_t> max_new_tokens;     // >= 1
};

// Parses and validates; errors name `source_name` and the key, expected vs found.
[[nodiscard]] GenerationDefaults parse_generation_config(const nlohmann::json& j,
                                                         const std::string& source_name);

// Reads `dir`/generation_config.json; all fields empty when the file does not exist.
[[nodiscard]] GenerationDefaults load_generation_defaults(const std::filesystem::path& dir);

}  // namespace bamba

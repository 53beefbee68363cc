// Reading generation_config.json into GenerationDefaults (see generation_config.h).
#include "model/generation_config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/json_file.h"
#include "model/json_fields.h"

namespace bamba {

namespace {

// A number within [lo, hi] (open at lo when lo_open), or nullopt when absent.
std::optional<double> read_in_range(const JsonFields& f, std::string_view key, double lo, bool lo_open,
                                    double hi, const char* expected) {
  const std::optional<double> v = f.optional_number(key);
  if (v && !(std::isfinite(*v) && (lo_open ? *v > lo : *v >= lo) && *v <= hi)) {
    f.fail_key(key, expected, str_cat(*v));
  }
  return v;
}

}  // namespace

GenerationDefaults parse_generation_config(const nlohmann::json& j, const std::string& source_name) {
  const JsonFields f(j, source_name);
  constexpr double kHuge = 1e300;
  GenerationDefaults g;
  g.bos_token_id = f.optional_token_id("bos_token_id");
  g.eos_token_ids = f.token_id_list("eos_token_id");
  g.do_sample = f.optional_bool("do_sample");
  g.temperature = read_in_range(f, "temperature", 0.0, false, kHuge, "a number >= 0");
  g.top_p = read_in_range(f, "top_p", 0.0, true, 1.0, "a number in (0, 1]");
  g.min_p = read_in_range(f, "min_p", 0.0, false, 1.0, "a number in [0, 1]");
  g.repetition_penalty = read_in_range(f, "repetition_penalty", 0.0, true, kHuge, "a number > 0");
  g.top_k = f.optional_int("top_k");
  if (g.top_k && *g.top_k < 0) f.fail_key("top_k", "an integer >= 0", str_cat(*g.top_k));
  g.max_new_tokens = f.optional_int("max_new_tokens");
  if (g.max_new_tokens && *g.max_new_tokens < 1) {
    f.fail_key("max_new_tokens", "an integer >= 1", str_cat(*g.max_new_tokens));
  }
  return g;
}

GenerationDefaults load_generation_defaults(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "generation_config.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  return parse_generation_config(io::read_json_file(path), path.string());
}

}  // namespace bamba

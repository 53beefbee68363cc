// Shapes and random weights of --synthetic; see synthetic_model.h.
#include "cli/synthetic_model.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/json_file.h"
#include "model/quantize.h"
#include "model/synthetic_weights.h"

namespace bamba::cli {

std::filesystem::path synthetic_config_path(const std::string& name) {
  if (name.find('/') != std::string::npos || name.ends_with(".json")) return name;
  const std::filesystem::path path = std::filesystem::path(BAMBA_SOURCE_DIR) / "bench" / "shapes" / (name + ".json");
  if (!std::filesystem::exists(path)) {
    fail("--synthetic ", name, ": no shape ", path, " (names: bamba-9b, bamba-1b, transformer-1b, or a config.json path)");
  }
  return path;
}

std::unique_ptr<Model> build_synthetic_model(const std::filesystem::path& config_path, const std::string& dtype,
                                             const LoadOptions& load, ThreadPool& pool) {
  if (dtype != "f32" && dtype != "bf16" && dtype != "int8" && dtype != "q4")
    fail("--dtype ", dtype, ": expected f32, bf16, int8 or q4");
  nlohmann::json config_json = io::read_json_file(config_path);
  if (dtype == "int8" || dtype == "q4") {
    const QuantizeOptions quantize{dtype == "q4" ? WeightFormat::Int4 : WeightFormat::Int8, 0, {}, {}};
    config_json["quantization_config"] =
        quant_config_json(make_quant_config(parse_model_config(config_json, config_path.string()), quantize));
  }
  return make_synthetic_model(config_json, config_path.string(), dtype == "f32" ? DType::F32 : DType::BF16, load,
                              pool);
}

}  // namespace bamba::cli

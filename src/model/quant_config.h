// The quantization of a checkpoint's weights, as its config.json's `quantization_config` says
// (the compressed-tensors schema: float-quantized fp8, int-quantized int8, pack-quantized int4),
// parsed and validated once; absent means plain float weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bamba {

// How the targeted weights are stored.
enum class WeightFormat : uint8_t {
  Float,  // F32 / F16 / BF16
  Int8,   // int-quantized, 8 bits: `weight` I8 + `weight_scale`
  Fp8,    // float-quantized, float8 e4m3fn: `weight` F8_E4M3 + `weight_scale`
  Int4,   // pack-quantized, 4 bits: `weight_packed` I32 (8 per word) + `weight_scale` + `weight_shape`
};

// Which weights share one scale.
enum class ScaleStrategy : uint8_t { Tensor, Channel, Group };

// One config group: the modules it targets and how their weights share scales.
struct QuantGroup {
  std::vector<std::string> targets;  // "Linear", "Embedding", module names or "re:" patterns
  ScaleStrategy strategy = ScaleStrategy::Channel;
  int64_t group_size = 0;  // Group only

  // Scales per row of a [rows, cols] weight: 1 (tensor, channel) or cols / group_size.
  [[nodiscard]] int64_t groups_per_row(int64_t cols) const;
  // E.g. "scale per group of 64".
  [[nodiscard]] std::string describe() const;
};

struct QuantConfig {
  WeightFormat format = WeightFormat::Float;
  // In config_groups order; a module takes the first group that names it (by name or "re:"
  // pattern), else the first that targets its class, as vLLM's compressed-tensors loader
  // matches them.
  std::vector<QuantGroup> groups;
  std::vector<std::string> ignore;  // module names or "re:" patterns left in float
  // GPTQ rounding as `quantization_config.calibration` records it (informational: the values
  // load the same); tokens 0: none recorded.
  struct GptqRecord {
    int64_t tokens = 0;
    double dampening = 0;
    bool act_order = false;
  } gptq;

  [[nodiscard]] bool quantized() const { return format != WeightFormat::Float; }
  // The group of the module (a weight's name without ".weight"; `kind` "Linear" or
  // "Embedding"), or nullptr when the module stays float.
  [[nodiscard]] const QuantGroup* group_of(const std::string& module, const char* kind) const;
  // E.g. "int4 (pack-quantized), scale per group of 64"; with more groups, each with its targets.
  [[nodiscard]] std::string describe() const;
};

// Reads config_json["quantization_config"] (absent or null: Float). Unknown methods and
// formats, unsupported schemes (asymmetric, static activations, groups of different bit
// widths or types) and malformed fields are Errors naming `source`, the key, expected vs found.
[[nodiscard]] QuantConfig parse_quant_config(const nlohmann::json& config_json, const std::string& source);

// The quantization_config object that describes `quant` (for writing config.json).
[[nodiscard]] nlohmann::json quant_config_json(const QuantConfig& quant);

}  // namespace bamba

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

struct QuantConfig {
  WeightFormat format = WeightFormat::Float;
  ScaleStrategy strategy = ScaleStrategy::Channel;
  int64_t group_size = 0;            // Group only
  std::vector<std::string> targets;  // "Linear", "Embedding", module names or "re:" patterns
  std::vector<std::string> ignore;   // module names or "re:" patterns left in float
  // GPTQ rounding as `quantization_config.calibration` records it (informational: the values
  // load the same); tokens 0: none recorded.
  struct GptqRecord {
    int64_t tokens = 0;
    double dampening = 0;
    bool act_order = false;
  } gptq;

  [[nodiscard]] bool quantized() const { return format != WeightFormat::Float; }
  // Whether the module (a weight's name without ".weight") is stored quantized; `kind` is
  // "Linear" or "Embedding".
  [[nodiscard]] bool covers(const std::string& module, const char* kind) const;
  // Scales per row of a [rows, cols] weight: 1 (tensor, channel) or cols / group_size.
  [[nodiscard]] int64_t groups_per_row(int64_t cols) const;
  // E.g. "int4 (pack-quantized), group 64".
  [[nodiscard]] std::string describe() const;
};

// Reads config_json["quantization_config"] (absent or null: Float). Unknown methods and
// formats, unsupported schemes (asymmetric, static activations, mixed groups) and malformed
// fields are Errors naming `source`, the key, expected vs found.
[[nodiscard]] QuantConfig parse_quant_config(const nlohmann::json& config_json, const std::string& source);

// The quantization_config object that describes `quant` (for writing config.json).
[[nodiscard]] nlohmann::json quant_config_json(const QuantConfig& quant);

}  // namespace bamba

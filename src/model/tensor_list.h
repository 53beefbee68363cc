// The one list of tensors a Bamba checkpoint holds (numerics §2): name, shape from the
// config, the config keys that imply that shape, and whether the engine keeps the tensor in
// its stored dtype or widens it to f32 at load; and how a quantized checkpoint stores each
// weight. Loading, quantizing, shape checks, parameter counts and tests are all driven by it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace bamba {

enum class TensorRole : uint8_t {
  // global
  Embedding, FinalNorm, LmHead,
  // every layer
  InputNorm, PreFfNorm, MlpGate, MlpUp, MlpDown,
  // attention layers
  AttnQ, AttnK, AttnV, AttnO,
  // mamba layers
  MambaInProj, MambaInProjBias, MambaConvWeight, MambaConvBias, MambaDtBias, MambaALog, MambaD,
  MambaNorm, MambaOutProj, MambaOutProjBias,
};

// Mapped: large matrices, used in place (stored dtype) from the mapping.
// WidenF32: small vectors, copied to f32 at load.
enum class TensorKeep : uint8_t { Mapped, WidenF32 };

// Which stored tensor of a (possibly quantized) weight a spec is: the weight itself, or for
// a quantized matrix (config.quant) its values ("weight" I8 / F8_E4M3, "weight_packed" I32),
// its "weight_scale", and for packed int4 its original "weight_shape".
enum class TensorPart : uint8_t { Whole, QuantValues, QuantScale, PackedShape };

struct TensorSpec {
  std::string name;            // e.g. "model.layers.3.mamba.in_proj.weight"
  std::vector<int64_t> shape;  // expected shape
  std::string implied_by;      // config keys that determine the shape
  int64_t layer = -1;          // model layer index; -1 for global tensors
  TensorRole role = TensorRole::Embedding;
  TensorKeep keep = TensorKeep::Mapped;
  TensorPart part = TensorPart::Whole;

  [[nodiscard]] int64_t numel() const;
};

// Every tensor a checkpoint of `config` must hold (lm_head.weight only when untied), one
// logical weight per entry whatever the quantization.
[[nodiscard]] std::vector<TensorSpec> bamba_tensor_list(const ModelConfig& config);

// The quantization module kind of a role: "Linear" (projections, lm_head), "Embedding"
// (embed_tokens), or nullptr for tensors that always stay float (norms, conv1d, A_log, D,
// dt_bias, biases).
[[nodiscard]] const char* quant_module_kind(TensorRole role);

// The module name of a weight: its name without ".weight".
[[nodiscard]] std::string module_name(const TensorSpec& spec);

// The config group that stores this logical weight quantized, or nullptr when it stays float.
[[nodiscard]] const QuantGroup* quant_group(const TensorSpec& spec, const QuantConfig& quant);

// The tensors a checkpoint stores for one logical weight: {spec} when it is not quantized;
// else the values (QuantValues: "<module>.weight" [out, in], or "<module>.weight_packed"
// [out, in/8] for int4), the scale (QuantScale: "<module>.weight_scale" [out, 1] per channel,
// [out, in/group] per group, [1] per tensor — any one-element shape is accepted there) and
// for int4 the shape (PackedShape: "<module>.weight_shape" [2]). Errors when in does not split
// into the groups or int4 words.
[[nodiscard]] std::vector<TensorSpec> stored_tensors(const TensorSpec& spec, const QuantConfig& quant);

// stored_tensors of every entry of bamba_tensor_list(config).
[[nodiscard]] std::vector<TensorSpec> bamba_stored_tensor_list(const ModelConfig& config);

// "[a, b, c]"
[[nodiscard]] std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace bamba

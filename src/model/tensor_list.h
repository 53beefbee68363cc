// The one list of tensors a Bamba checkpoint holds (numerics §2): name, shape from the
// config, the config keys that imply that shape, and whether the engine keeps the tensor in
// its stored dtype or widens it to f32 at load. Loading, shape checks, parameter counts and
// tests are all driven by this list.
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

struct TensorSpec {
  std::string name;            // e.g. "model.layers.3.mamba.in_proj.weight"
  std::vector<int64_t> shape;  // expected shape
  std::string implied_by;      // config keys that determine the shape
  int64_t layer = -1;          // model layer index; -1 for global tensors
  TensorRole role = TensorRole::Embedding;
  TensorKeep keep = TensorKeep::Mapped;

  [[nodiscard]] int64_t numel() const;
};

// Every tensor a checkpoint of `config` must hold (lm_head.weight only when untied).
[[nodiscard]] std::vector<TensorSpec> bamba_tensor_list(const ModelConfig& config);

// "[a, b, c]"
[[nodiscard]] std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace bamba

// ModelConfig: the typed, validated form of a Bamba config.json (numerics §1), with the
// derived sizes that loading, the forward pass and memory planning use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/dtype.h"
#include "model/quant_config.h"

namespace bamba {

enum class LayerKind : uint8_t { Mamba2, Attention };

struct ModelConfig {
  std::string model_type;  // "bamba"
  std::string source;      // where it was read from (for error messages)
  int64_t vocab_size = 0;         // V
  int64_t hidden_size = 0;        // H
  int64_t intermediate_size = 0;  // I: MLP width
  int64_t n_layers = 0;
  std::vector<LayerKind> layer_kinds;  // [n_layers], from attn_layer_indices
  // attention
  int64_t n_heads = 0;     // nh
  int64_t n_kv_heads = 0;  // nkv
  int64_t head_dim = 0;    // hd
  int64_t rotary_dim = 0;  // rd = int(hd * partial_rotary_factor)
  double rope_theta = 10000.0;
  // mamba2
  int64_t mamba_n_heads = 0;   // mh
  int64_t mamba_head_dim = 0;  // P
  int64_t mamba_n_groups = 0;  // G
  int64_t mamba_d_state = 0;   // N
  int64_t mamba_d_conv = 0;    // K
  int64_t mamba_chunk_size = 0;  // Q
  int64_t d_inner = 0;       // E = int(mamba_expand * H)
  int64_t conv_dim = 0;      // E + 2GN
  int64_t in_proj_rows = 0;  // 2E + 2GN + mh
  bool mamba_conv_bias = true, mamba_proj_bias = false, tie_word_embeddings = false;
  double rms_norm_eps = 1e-5;
  std::optional<int32_t> bos_token_id, pad_token_id;
  std::vector<int32_t> eos_token_ids;
  int64_t max_position_embeddings = 0;
  QuantConfig quant;  // quantization_config: how the Linear weights are stored

  [[nodiscard]] int64_t n_attention_layers() const;
  [[nodiscard]] int64_t n_mamba_layers() const;
  // Parameters of every expected tensor (tied embeddings counted once).
  [[nodiscard]] int64_t n_params() const;
  // K and V of one position for all attention layers; I8 counts each (position, kv head)
  // row's f32 scale beside its int8 values (the int8 KV layout of kernels/ops.h).
  [[nodiscard]] int64_t kv_bytes_per_token(DType kv_dtype) const;
  // Conv windows [K-1, conv_dim] (f32) and SSM states [mh, P, N] (state_dtype: F32 or BF16)
  // of all mamba layers.
  [[nodiscard]] int64_t state_bytes_per_sequence(DType state_dtype = DType::F32) const;
  // f32 elements of one mamba layer's conv window / SSM state.
  [[nodiscard]] int64_t conv_window_size() const { return (mamba_d_conv - 1) * conv_dim; }
  [[nodiscard]] int64_t ssm_state_size() const {
    return mamba_n_heads * mamba_head_dim * mamba_d_state;
  }
};

// Parses and validates the Bamba config schema; errors name `source_name` and the key,
// expected vs found. model_type is recorded, not checked (the registry dispatches on it).
[[nodiscard]] ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source_name);

// Reads config.json (tolerating the Infinity/NaN tokens HF may write) and parses it.
[[nodiscard]] ModelConfig load_model_config(const std::filesystem::path& config_json);

}  // namespace bamba

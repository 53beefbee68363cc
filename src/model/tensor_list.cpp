// The Bamba tensor list: one table per layer kind (numerics §2).
#include "model/tensor_list.h"

#include "base/error.h"
#include "model/quant_config.h"

namespace bamba {

namespace {

using Shape = std::vector<int64_t>;

struct Pattern {
  const char* suffix;  // after "model.layers.{i}." for layer tensors, the full name otherwise
  TensorRole role;
  TensorKeep keep;
  Shape (*shape)(const ModelConfig&);
  const char* implied_by;
  bool (*present)(const ModelConfig&);  // nullptr: always present
};

using C = const ModelConfig&;
constexpr TensorKeep kMapped = TensorKeep::Mapped;
constexpr TensorKeep kWiden = TensorKeep::WidenF32;

const Pattern kGlobal[] = {
    {"model.embed_tokens.weight", TensorRole::Embedding, kMapped,
     [](C c) { return Shape{c.vocab_size, c.hidden_size}; }, "vocab_size, hidden_size", nullptr},
    {"model.final_layernorm.weight", TensorRole::FinalNorm, kWiden,
     [](C c) { return Shape{c.hidden_size}; }, "hidden_size", nullptr},
    {"lm_head.weight", TensorRole::LmHead, kMapped,
     [](C c) { return Shape{c.vocab_size, c.hidden_size}; }, "vocab_size, hidden_size",
     [](C c) { return !c.tie_word_embeddings; }},
};

// Every layer: the two RMSNorms and the SwiGLU MLP.
const Pattern kEveryLayer[] = {
    {"input_layernorm.weight", TensorRole::InputNorm, kWiden,
     [](C c) { return Shape{c.hidden_size}; }, "hidden_size", nullptr},
    {"pre_ff_layernorm.weight", TensorRole::PreFfNorm, kWiden,
     [](C c) { return Shape{c.hidden_size}; }, "hidden_size", nullptr},
    {"feed_forward.gate_proj.weight", TensorRole::MlpGate, kMapped,
     [](C c) { return Shape{c.intermediate_size, c.hidden_size}; }, "intermediate_size, hidden_size", nullptr},
    {"feed_forward.up_proj.weight", TensorRole::MlpUp, kMapped,
     [](C c) { return Shape{c.intermediate_size, c.hidden_size}; }, "intermediate_size, hidden_size", nullptr},
    {"feed_forward.down_proj.weight", TensorRole::MlpDown, kMapped,
     [](C c) { return Shape{c.hidden_size, c.intermediate_size}; }, "hidden_size, intermediate_size", nullptr},
};

const Pattern kAttentionLayer[] = {
    {"self_attn.q_proj.weight", TensorRole::AttnQ, kMapped,
     [](C c) { return Shape{c.n_heads * c.head_dim, c.hidden_size}; },
     "num_attention_heads * head_dim, hidden_size", nullptr},
    {"self_attn.k_proj.weight", TensorRole::AttnK, kMapped,
     [](C c) { return Shape{c.n_kv_heads * c.head_dim, c.hidden_size}; },
     "num_key_value_heads * head_dim, hidden_size", nullptr},
    {"self_attn.v_proj.weight", TensorRole::AttnV, kMapped,
     [](C c) { return Shape{c.n_kv_heads * c.head_dim, c.hidden_size}; },
     "num_key_value_heads * head_dim, hidden_size", nullptr},
    {"self_attn.o_proj.weight", TensorRole::AttnO, kMapped,
     [](C c) { return Shape{c.hidden_size, c.n_heads * c.head_dim}; },
     "hidden_size, num_attention_heads * head_dim", nullptr},
};

const Pattern kMambaLayer[] = {
    {"mamba.in_proj.weight", TensorRole::MambaInProj, kMapped,
     [](C c) { return Shape{c.in_proj_rows, c.hidden_size}; },
     "2*mamba_expand*hidden_size + 2*mamba_n_groups*mamba_d_state + mamba_n_heads, hidden_size", nullptr},
    {"mamba.in_proj.bias", TensorRole::MambaInProjBias, kWiden,
     [](C c) { return Shape{c.in_proj_rows}; },
     "mamba_proj_bias, 2*mamba_expand*hidden_size + 2*mamba_n_groups*mamba_d_state + mamba_n_heads",
     [](C c) { return c.mamba_proj_bias; }},
    {"mamba.conv1d.weight", TensorRole::MambaConvWeight, kWiden,
     [](C c) { return Shape{c.conv_dim, 1, c.mamba_d_conv}; },
     "mamba_expand*hidden_size + 2*mamba_n_groups*mamba_d_state, mamba_d_conv", nullptr},
    {"mamba.conv1d.bias", TensorRole::MambaConvBias, kWiden,
     [](C c) { return Shape{c.conv_dim}; },
     "mamba_conv_bias, mamba_expand*hidden_size + 2*mamba_n_groups*mamba_d_state",
     [](C c) { return c.mamba_conv_bias; }},
    {"mamba.dt_bias", TensorRole::MambaDtBias, kWiden,
     [](C c) { return Shape{c.mamba_n_heads}; }, "mamba_n_heads", nullptr},
    {"mamba.A_log", TensorRole::MambaALog, kWiden,
     [](C c) { return Shape{c.mamba_n_heads}; }, "mamba_n_heads", nullptr},
    {"mamba.D", TensorRole::MambaD, kWiden,
     [](C c) { return Shape{c.mamba_n_heads}; }, "mamba_n_heads", nullptr},
    {"mamba.norm.weight", TensorRole::MambaNorm, kWiden,
     [](C c) { return Shape{c.d_inner}; }, "mamba_expand*hidden_size", nullptr},
    {"mamba.out_proj.weight", TensorRole::MambaOutProj, kMapped,
     [](C c) { return Shape{c.hidden_size, c.d_inner}; }, "hidden_size, mamba_expand*hidden_size", nullptr},
    {"mamba.out_proj.bias", TensorRole::MambaOutProjBias, kWiden,
     [](C c) { return Shape{c.hidden_size}; }, "mamba_proj_bias, hidden_size",
     [](C c) { return c.mamba_proj_bias; }},
};

template <size_t N>
void add(std::vector<TensorSpec>& list, const Pattern (&patterns)[N], const ModelConfig& config,
         int64_t layer) {
  for (const Pattern& p : patterns) {
    if (p.present && !p.present(config)) continue;
    std::string name = layer < 0 ? std::string(p.suffix) : str_cat("model.layers.", layer, ".", p.suffix);
    list.push_back({std::move(name), p.shape(config), p.implied_by, layer, p.role, p.keep});
  }
}

}  // namespace

int64_t TensorSpec::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<TensorSpec> bamba_tensor_list(const ModelConfig& config) {
  std::vector<TensorSpec> list;
  add(list, kGlobal, config, -1);
  for (int64_t i = 0; i < config.n_layers; ++i) {
    add(list, kEveryLayer, config, i);
    if (config.layer_kinds[size_t(i)] == LayerKind::Attention) {
      add(list, kAttentionLayer, config, i);
    } else {
      add(list, kMambaLayer, config, i);
    }
  }
  return list;
}

const char* quant_module_kind(TensorRole role) {
  switch (role) {
    case TensorRole::Embedding: return "Embedding";
    case TensorRole::LmHead:
    case TensorRole::MlpGate:
    case TensorRole::MlpUp:
    case TensorRole::MlpDown:
    case TensorRole::AttnQ:
    case TensorRole::AttnK:
    case TensorRole::AttnV:
    case TensorRole::AttnO:
    case TensorRole::MambaInProj:
    case TensorRole::MambaOutProj: return "Linear";
    default: return nullptr;
  }
}

std::string module_name(const TensorSpec& spec) {
  const std::string suffix = ".weight";
  return spec.name.ends_with(suffix) ? spec.name.substr(0, spec.name.size() - suffix.size()) : spec.name;
}

const QuantGroup* quant_group(const TensorSpec& spec, const QuantConfig& quant) {
  const char* kind = quant_module_kind(spec.role);
  return kind != nullptr ? quant.group_of(module_name(spec), kind) : nullptr;
}

std::vector<TensorSpec> stored_tensors(const TensorSpec& spec, const QuantConfig& quant) {
  const QuantGroup* group = quant_group(spec, quant);
  if (!group) return {spec};
  const std::string module = module_name(spec);
  const int64_t rows = spec.shape[0], cols = spec.shape[1];
  if (group->strategy == ScaleStrategy::Group && cols % group->group_size != 0) {
    fail(spec.name, " ", shape_string(spec.shape), ": ", cols, " input columns do not split into groups of ",
         group->group_size, " (quantization_config group_size)");
  }
  const bool packed = quant.format == WeightFormat::Int4;
  if (packed && cols % 8 != 0) {
    fail(spec.name, " ", shape_string(spec.shape), ": ", cols, " input columns do not pack into int32 words of 8");
  }
  TensorSpec values = spec;
  values.part = TensorPart::QuantValues;
  if (packed) {
    values.name = module + ".weight_packed";
    values.shape = {rows, cols / 8};
  }
  TensorSpec scale = spec;
  scale.name = module + ".weight_scale";
  scale.part = TensorPart::QuantScale;
  scale.shape = group->strategy == ScaleStrategy::Tensor ? std::vector<int64_t>{1}
                                                         : std::vector<int64_t>{rows, group->groups_per_row(cols)};
  std::vector<TensorSpec> out = {values, scale};
  if (packed) {
    TensorSpec shape = spec;
    shape.name = module + ".weight_shape";
    shape.part = TensorPart::PackedShape;
    shape.shape = {2};
    out.push_back(shape);
  }
  return out;
}

std::vector<TensorSpec> bamba_stored_tensor_list(const ModelConfig& config) {
  std::vector<TensorSpec> out;
  for (const TensorSpec& spec : bamba_tensor_list(config)) {
    for (TensorSpec& part : stored_tensors(spec, config.quant)) out.push_back(std::move(part));
  }
  return out;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += str_cat(i ? ", " : "", shape[i]);
  return s + "]";
}

}  // namespace bamba

// Loading Bamba weights: the tensor list decides what must exist and with which shape;
// this file checks the checkpoint against it and binds each tensor to its field.
#include "model/weights.h"

#include <cmath>
#include <set>

#include "base/error.h"
#include "model/tensor_list.h"

namespace bamba {

namespace {

bool is_float_dtype(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Why a tensor the list does not expect might be in the file, for the error message.
std::string unexpected_hint(const ModelConfig& config, const std::string& name) {
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) == 0) {
    const size_t dot = name.find('.', prefix.size());
    const std::string index = name.substr(prefix.size(), dot - prefix.size());
    char* end = nullptr;
    const long long layer = std::strtoll(index.c_str(), &end, 10);
    if (index.empty() || *end != '\0') return "";
    if (layer < 0 || layer >= config.n_layers) {
      return str_cat(" (config key num_hidden_layers = ", config.n_layers, ")");
    }
    const bool attention = config.layer_kinds[size_t(layer)] == LayerKind::Attention;
    if (name.find(".mamba.in_proj.bias") != std::string::npos ||
        name.find(".mamba.out_proj.bias") != std::string::npos) {
      if (!attention) return " (config key mamba_proj_bias is false)";
    }
    if (name.find(".mamba.conv1d.bias") != std::string::npos && !attention) {
      return " (config key mamba_conv_bias is false)";
    }
    return str_cat(" (layer ", layer, " is ", attention ? "an attention" : "a Mamba2",
                   " layer per config key attn_layer_indices)");
  }
  return "";
}

kernels::Matrix as_matrix(const io::TensorInfo& t) {
  return {t.data, t.dtype, t.shape[0], t.numel() / t.shape[0]};
}

// A small tensor widened to f32: the embedding gather of row 0 of a [1, numel] table.
std::vector<float> widen(const io::TensorInfo& t) {
  std::vector<float> out(size_t(t.numel()));
  const int32_t row0 = 0;
  kernels::embedding_rows({t.data, t.dtype, 1, t.numel()}, &row0, 1, out.data());
  return out;
}

// The field a tensor of the list is bound to.
struct Binding {
  kernels::Matrix* matrix = nullptr;
  std::vector<float>* vector = nullptr;
};

Binding bind(BambaWeights& w, const TensorSpec& spec) {
  if (spec.layer < 0) {
    switch (spec.role) {
      case TensorRole::Embedding: return {&w.embed, nullptr};
      case TensorRole::LmHead: return {&w.lm_head, nullptr};
      case TensorRole::FinalNorm: return {nullptr, &w.final_norm};
      default: break;
    }
  }
  LayerWeights& l = w.layers[size_t(spec.layer)];
  switch (spec.role) {
    case TensorRole::InputNorm: return {nullptr, &l.input_norm};
    case TensorRole::PreFfNorm: return {nullptr, &l.pre_ff_norm};
    case TensorRole::MlpGate: return {&l.mlp.gate, nullptr};
    case TensorRole::MlpUp: return {&l.mlp.up, nullptr};
    case TensorRole::MlpDown: return {&l.mlp.down, nullptr};
    case TensorRole::AttnQ: return {&l.attention.q, nullptr};
    case TensorRole::AttnK: return {&l.attention.k, nullptr};
    case TensorRole::AttnV: return {&l.attention.v, nullptr};
    case TensorRole::AttnO: return {&l.attention.o, nullptr};
    case TensorRole::MambaInProj: return {&l.mamba.in_proj, nullptr};
    case TensorRole::MambaInProjBias: return {nullptr, &l.mamba.in_proj_bias};
    case TensorRole::MambaConvWeight: return {nullptr, &l.mamba.conv_weight};
    case TensorRole::MambaConvBias: return {nullptr, &l.mamba.conv_bias};
    case TensorRole::MambaDtBias: return {nullptr, &l.mamba.dt_bias};
    case TensorRole::MambaALog: return {nullptr, &l.mamba.A};
    case TensorRole::MambaD: return {nullptr, &l.mamba.D};
    case TensorRole::MambaNorm: return {nullptr, &l.mamba.norm};
    case TensorRole::MambaOutProj: return {&l.mamba.out_proj, nullptr};
    case TensorRole::MambaOutProjBias: return {nullptr, &l.mamba.out_proj_bias};
    default: break;
  }
  fail("internal: tensor role of '", spec.name, "' has no binding");
}

}  // namespace

BambaWeights load_bamba_weights(const ModelConfig& config, io::TensorStore store,
                                const std::filesystem::path& dir) {
  BambaWeights w;
  w.store = std::move(store);
  w.layers.resize(size_t(config.n_layers));
  for (int64_t i = 0; i < config.n_layers; ++i) w.layers[size_t(i)].kind = config.layer_kinds[size_t(i)];

  const std::vector<TensorSpec> list = bamba_tensor_list(config);
  std::set<std::string, std::less<>> expected;
  for (const TensorSpec& spec : list) {
    expected.insert(spec.name);
    const io::TensorInfo* t = w.store.find(spec.name);
    if (!t) {
      fail(dir.string(), ": tensor '", spec.name, "' ", shape_string(spec.shape),
           " is missing from the checkpoint (expected from config keys: ", spec.implied_by, ")");
    }
    if (t->shape != spec.shape) {
      fail(t->file.string(), ": tensor '", spec.name, "': expected shape ", shape_string(spec.shape),
           " (from config keys: ", spec.implied_by, "), found ", shape_string(t->shape));
    }
    if (!is_float_dtype(t->dtype)) {
      fail(t->file.string(), ": tensor '", spec.name, "': expected dtype F32, F16 or BF16, found ",
           dtype_name(t->dtype));
    }
    const Binding b = bind(w, spec);
    if (spec.keep == TensorKeep::Mapped) {
      *b.matrix = as_matrix(*t);
      w.bytes += int64_t(t->nbytes);
    } else {
      *b.vector = widen(*t);
      w.bytes += spec.numel() * int64_t(sizeof(float));
    }
  }
  for (const std::string& name : w.store.names()) {
    if (expected.count(name)) continue;
    if (name == "lm_head.weight" && config.tie_word_embeddings) {
      // HF ties lm_head to embed_tokens after loading, so a stored copy is never used.
      continue;
    }
    const io::TensorInfo* t = w.store.find(name);
    fail(t->file.string(), ": unexpected tensor '", name, "' ", shape_string(t->shape),
         " (not part of a Bamba model with ", config.source, ")", unexpected_hint(config, name));
  }
  if (config.tie_word_embeddings) w.lm_head = w.embed;

  // A = -exp(A_log), once, in f32.
  for (LayerWeights& layer : w.layers) {
    for (float& a : layer.mamba.A) a = -std::exp(a);
  }
  return w;
}

}  // namespace bamba

// Parsing and validating a Bamba config.json into ModelConfig (numerics §1). Defaults are
// BambaConfig's; keys with no effect on inference are ignored; settings this engine does not
// implement (rope scaling, biases in attention/MLP, a dt clamp) are errors, not surprises.
#include "model/config.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/json_file.h"
#include "model/json_fields.h"
#include "model/tensor_list.h"

namespace bamba {

namespace {

// Bounds that keep every derived size and byte count far from int64 overflow.
constexpr int64_t kMaxDim = int64_t(1) << 24;        // any single size key
constexpr int64_t kMaxLayers = int64_t(1) << 14;
constexpr int64_t kMaxVocab = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxDerived = int64_t(1) << 31;    // d_inner, conv_dim, in_proj_rows, nh*hd
constexpr __int128 kMaxTotal = __int128(1) << 53;    // params, bytes per sequence

int64_t read_size(const JsonFields& f, std::string_view key, int64_t fallback, int64_t max = kMaxDim) {
  const int64_t v = f.get_int(key, fallback);
  if (v < 1 || v > max) f.fail_key(key, str_cat("an integer in [1, ", max, "]"), str_cat(v));
  return v;
}

void check_derived(const JsonFields& f, std::string_view what, __int128 value, __int128 max) {
  if (value > max) {
    fail(f.source(), ": ", what, " = ", double(value), " is larger than this engine supports (",
         double(max), ")");
  }
}

void read_layer_kinds(const JsonFields& f, ModelConfig& c) {
  c.layer_kinds.assign(size_t(c.n_layers), LayerKind::Mamba2);
  const nlohmann::json* indices = f.find("attn_layer_indices");
  if (!indices) return;  // null: every layer is Mamba2
  if (!indices->is_array()) f.fail_value("attn_layer_indices", "a list of layer indices", *indices);
  for (const nlohmann::json& e : *indices) {
    if (!e.is_number_integer()) {
      f.fail_value("attn_layer_indices", "a list of integer layer indices", *indices);
    }
    const bool negative = !e.is_number_unsigned() && e.get<int64_t>() < 0;
    if (negative || e.get<uint64_t>() >= uint64_t(c.n_layers)) {
      f.fail_key("attn_layer_indices",
                 str_cat("indices in [0, num_hidden_layers = ", c.n_layers, ")"),
                 str_cat(json_brief(e), " in ", json_brief(*indices)));
    }
    LayerKind& kind = c.layer_kinds[size_t(e.get<uint64_t>())];
    if (kind == LayerKind::Attention) {
      f.fail_key("attn_layer_indices", "each layer index at most once",
                 str_cat(json_brief(e), " twice in ", json_brief(*indices)));
    }
    kind = LayerKind::Attention;
  }
}

void read_attention(const JsonFields& f, ModelConfig& c) {
  c.n_heads = read_size(f, "num_attention_heads", 32);
  // BambaConfig: absent => 8, explicit null => num_attention_heads.
  const bool kv_heads_null = f.has("num_key_value_heads") && !f.find("num_key_value_heads");
  c.n_kv_heads = kv_heads_null ? c.n_heads : read_size(f, "num_key_value_heads", 8);
  if (c.n_heads % c.n_kv_heads != 0) {
    f.fail_key("num_key_value_heads",
               str_cat("a divisor of num_attention_heads (", c.n_heads, ")"), str_cat(c.n_kv_heads));
  }
  if (f.find("head_dim")) {
    c.head_dim = read_size(f, "head_dim", 0);
  } else {
    if (c.hidden_size % c.n_heads != 0) {
      f.fail_key("num_attention_heads",
                 str_cat("a divisor of hidden_size (", c.hidden_size, ") since head_dim is absent"),
                 str_cat(c.n_heads));
    }
    c.head_dim = c.hidden_size / c.n_heads;
  }
  check_derived(f, "num_attention_heads * head_dim", __int128(c.n_heads) * c.head_dim, kMaxDerived);

  // Rotary dim: int(head_dim * partial_rotary_factor), 0.5 unless the key says otherwise.
  const double factor = f.get_number("partial_rotary_factor", 0.5);
  if (!(factor > 0.0 && factor <= 1.0)) {
    f.fail_key("partial_rotary_factor", "a number in (0, 1]", str_cat(factor));
  }
  c.rotary_dim = int64_t(double(c.head_dim) * factor);
  if (c.rotary_dim < 2 || c.rotary_dim % 2 != 0) {
    fail(f.source(), ": rotary dim int(head_dim (", c.head_dim, ") * partial_rotary_factor (", factor,
         ")) = ", c.rotary_dim, ": expected an even number >= 2");
  }
  if (auto stated = f.optional_int("attn_rotary_emb"); stated && *stated != c.rotary_dim) {
    f.fail_key("attn_rotary_emb",
               str_cat("int(head_dim * partial_rotary_factor) = ", c.rotary_dim), str_cat(*stated));
  }
  c.rope_theta = f.get_number("rope_theta", 10000.0);
  if (!(std::isfinite(c.rope_theta) && c.rope_theta > 0.0)) {
    f.fail_key("rope_theta", "a positive finite number", str_cat(c.rope_theta));
  }
  if (const nlohmann::json* scaling = f.find("rope_scaling")) {
    f.fail_value("rope_scaling", "null (RoPE scaling is not supported)", *scaling);
  }
  if (f.get_bool("attention_bias", false)) f.fail_key("attention_bias", "false (not supported)", "true");
}

void read_mamba(const JsonFields& f, ModelConfig& c) {
  c.mamba_n_heads = read_size(f, "mamba_n_heads", 128);
  c.mamba_n_groups = read_size(f, "mamba_n_groups", 1);
  c.mamba_d_state = read_size(f, "mamba_d_state", 256);
  c.mamba_d_conv = read_size(f, "mamba_d_conv", 4, 1024);
  c.mamba_chunk_size = read_size(f, "mamba_chunk_size", 256);
  const double expand = f.get_number("mamba_expand", 2.0);
  const double d_inner = expand * double(c.hidden_size);
  if (!(expand > 0.0 && d_inner >= 1.0 && d_inner <= double(kMaxDerived))) {
    f.fail_key("mamba_expand", "a positive number with 1 <= mamba_expand * hidden_size <= 2^31",
               str_cat(expand));
  }
  c.d_inner = int64_t(d_inner);  // E = int(mamba_expand * hidden_size)
  if (c.mamba_n_heads % c.mamba_n_groups != 0) {
    f.fail_key("mamba_n_groups", str_cat("a divisor of mamba_n_heads (", c.mamba_n_heads, ")"),
               str_cat(c.mamba_n_groups));
  }
  const nlohmann::json* d_head = f.find("mamba_d_head");
  if (!d_head || (d_head->is_string() && d_head->get<std::string>() == "auto")) {
    c.mamba_head_dim = c.d_inner / c.mamba_n_heads;
  } else {
    c.mamba_head_dim = read_size(f, "mamba_d_head", 0);
  }
  if (c.mamba_n_heads * c.mamba_head_dim != c.d_inner) {
    f.fail_key("mamba_d_head",
               str_cat("mamba_n_heads (", c.mamba_n_heads, ") * mamba_d_head == mamba_expand * hidden_size (",
                       c.d_inner, ")"),
               str_cat(c.mamba_head_dim, " (product ", c.mamba_n_heads * c.mamba_head_dim, ")"));
  }
  const __int128 group_state = __int128(2) * c.mamba_n_groups * c.mamba_d_state;
  check_derived(f, "conv_dim (mamba_expand*hidden_size + 2*mamba_n_groups*mamba_d_state)",
                c.d_inner + group_state, kMaxDerived);
  check_derived(f, "in_proj rows", 2 * __int128(c.d_inner) + group_state + c.mamba_n_heads, kMaxDerived);
  c.conv_dim = c.d_inner + int64_t(group_state);
  c.in_proj_rows = 2 * c.d_inner + int64_t(group_state) + c.mamba_n_heads;
  c.mamba_conv_bias = f.get_bool("mamba_conv_bias", true);
  c.mamba_proj_bias = f.get_bool("mamba_proj_bias", false);

  // time_step_limit: only the default (0, inf), i.e. no clamp, is implemented.
  if (const nlohmann::json* limit = f.find("time_step_limit")) {
    const bool is_default = limit->is_array() && limit->size() == 2 && (*limit)[0].is_number() &&
                            (*limit)[1].is_number() && (*limit)[0].get<double>() == 0.0 &&
                            std::isinf((*limit)[1].get<double>()) && (*limit)[1].get<double>() > 0;
    if (!is_default) f.fail_value("time_step_limit", "[0.0, Infinity] (a dt clamp is not supported)", *limit);
  }
}

}  // namespace

ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source_name) {
  const JsonFields f(j, source_name);
  ModelConfig c;
  c.source = source_name;
  const std::optional<std::string> model_type = f.optional_string("model_type");
  if (!model_type) fail(source_name, ": key 'model_type' is missing");
  c.model_type = *model_type;

  c.vocab_size = read_size(f, "vocab_size", 128000, kMaxVocab);
  c.hidden_size = read_size(f, "hidden_size", 4096);
  c.intermediate_size = read_size(f, "intermediate_size", 14336);
  c.n_layers = read_size(f, "num_hidden_layers", 32, kMaxLayers);
  read_layer_kinds(f, c);
  read_attention(f, c);
  read_mamba(f, c);

  c.rms_norm_eps = f.get_number("rms_norm_eps", 1e-5);
  if (!(std::isfinite(c.rms_norm_eps) && c.rms_norm_eps > 0.0)) {
    f.fail_key("rms_norm_eps", "a positive finite number", str_cat(c.rms_norm_eps));
  }
  c.tie_word_embeddings = f.get_bool("tie_word_embeddings", false);
  if (auto act = f.optional_string("hidden_act"); act && *act != "silu") {
    f.fail_key("hidden_act", "\"silu\"", str_cat('"', *act, '"'));
  }
  if (f.get_bool("mlp_bias", false)) f.fail_key("mlp_bias", "false (not supported)", "true");

  // Absent => BambaConfig defaults 1 / 2 / 0; explicit null => none.
  c.bos_token_id = f.has("bos_token_id") ? f.optional_token_id("bos_token_id") : 1;
  c.pad_token_id = f.has("pad_token_id") ? f.optional_token_id("pad_token_id") : 0;
  c.eos_token_ids = f.has("eos_token_id") ? f.token_id_list("eos_token_id") : std::vector<int32_t>{2};
  c.max_position_embeddings = read_size(f, "max_position_embeddings", 262144, std::numeric_limits<int32_t>::max());
  c.quant = parse_quant_config(j, source_name);

  __int128 n_params = 0;
  for (const TensorSpec& spec : bamba_tensor_list(c)) n_params += spec.numel();
  check_derived(f, "parameter count", n_params, kMaxTotal);
  check_derived(f, "state bytes per sequence",
                __int128(c.n_mamba_layers()) * (c.conv_window_size() + __int128(c.d_inner) * c.mamba_d_state) * 4,
                kMaxTotal);
  return c;
}

ModelConfig load_model_config(const std::filesystem::path& config_json) {
  return parse_model_config(io::read_json_file(config_json), config_json.string());
}

int64_t ModelConfig::n_attention_layers() const {
  int64_t n = 0;
  for (LayerKind k : layer_kinds) n += k == LayerKind::Attention;
  return n;
}

int64_t ModelConfig::n_mamba_layers() const { return n_layers - n_attention_layers(); }

int64_t ModelConfig::n_params() const {
  int64_t n = 0;
  for (const TensorSpec& spec : bamba_tensor_list(*this)) n += spec.numel();
  return n;
}

int64_t ModelConfig::kv_bytes_per_token(DType kv_dtype) const {
  const int64_t scale_bytes = kv_dtype == DType::I8 ? int64_t(sizeof(float)) : 0;  // per kv head row
  return n_attention_layers() * 2 * n_kv_heads * (head_dim * int64_t(dtype_size(kv_dtype)) + scale_bytes);
}

int64_t ModelConfig::state_bytes_per_sequence(DType state_dtype) const {
  return n_mamba_layers() *
         (conv_window_size() * int64_t(sizeof(float)) + ssm_state_size() * int64_t(dtype_size(state_dtype)));
}

}  // namespace bamba

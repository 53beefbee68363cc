// `bamba info`: the architecture of a model and what it costs — parameters, weight bytes,
// KV cache per token, recurrent state per sequence (in the --kv-dtype / --state-dtype
// storage, bf16 / f32 by default) — from a model folder or a config.json.
#include <array>
#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "cli/command.h"
#include "cli/common.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/weights.h"

namespace bamba::cli {
namespace {

constexpr int64_t kContextExample = 32768;  // the context length of the "what it costs" line

struct InfoFlags {
  std::string model_dir;
  std::string config_path;
  CacheFlags cache;  // the dtypes the per-token and per-sequence figures are given for
  bool json = false;
};

// n in the largest of `units` (each `base` times the one before) that keeps it at or above 1,
// whole numbers in the first unit and two decimals after: scaled(1536, 1024, {"B", "KiB"},
// " ") -> "1.50 KiB".
std::string scaled(int64_t n, double base, const std::array<const char*, 5>& units, const char* separator) {
  double v = double(n);
  size_t u = 0;
  while (v >= base && u + 1 < units.size()) v /= base, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s%s" : "%.2f%s%s", v, separator, units[u]);
  return buf;
}

// 9780000000 -> "9.78B".
std::string human_count(int64_t n) { return scaled(n, 1000.0, {"", "K", "M", "B", "T"}, ""); }

// 1536 -> "1.50 KiB".
std::string human_bytes(int64_t n) { return scaled(n, 1024.0, {"B", "KiB", "MiB", "GiB", "TiB"}, " "); }

nlohmann::json describe(const ModelConfig& c, int64_t weight_bytes, const std::string& weight_source,
                        DType kv_dtype, DType state_dtype) {
  nlohmann::json layers = nlohmann::json::array();
  nlohmann::json attention_layers = nlohmann::json::array();
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const bool attention = c.layer_kinds[size_t(i)] == LayerKind::Attention;
    layers.push_back(attention ? "attention" : "mamba2");
    if (attention) attention_layers.push_back(i);
  }
  const int64_t state = c.state_bytes_per_sequence(state_dtype);
  const int64_t kv_bf16 = c.kv_bytes_per_token(DType::BF16);
  const int64_t kv_f32 = c.kv_bytes_per_token(DType::F32);
  const int64_t kv_int8 = c.kv_bytes_per_token(DType::I8);
  return {
      {"model_type", c.model_type},
      {"n_layers", c.n_layers},
      {"layers", layers},
      {"attention_layers", attention_layers},
      {"n_mamba_layers", c.n_mamba_layers()},
      {"n_attention_layers", c.n_attention_layers()},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"vocab_size", c.vocab_size},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"attention",
       {{"n_heads", c.n_heads},
        {"n_kv_heads", c.n_kv_heads},
        {"head_dim", c.head_dim},
        {"rotary_dim", c.rotary_dim},
        {"rope_theta", c.rope_theta}}},
      {"mamba",
       {{"n_heads", c.mamba_n_heads},
        {"head_dim", c.mamba_head_dim},
        {"n_groups", c.mamba_n_groups},
        {"d_state", c.mamba_d_state},
        {"d_conv", c.mamba_d_conv},
        {"chunk_size", c.mamba_chunk_size},
        {"d_inner", c.d_inner},
        {"conv_dim", c.conv_dim},
        {"in_proj_rows", c.in_proj_rows}}},
      {"max_position_embeddings", c.max_position_embeddings},
      {"n_params", c.n_params()},
      {"n_params_human", human_count(c.n_params())},
      {"weight_bytes", weight_bytes},
      {"weight_bytes_source", weight_source},
      {"weight_format", c.quant.describe()},
      {"weight_compute", weight_compute_description(c.quant)},
      {"weight_rounding", c.quant.gptq.tokens > 0 ? str_cat("GPTQ on ", c.quant.gptq.tokens, " calibration tokens")
                          : c.quant.quantized()   ? "to nearest (or not recorded)"
                                                  : "-"},
      {"kv_dtype", cache_dtype_name(kv_dtype)},
      {"state_dtype", cache_dtype_name(state_dtype)},
      {"kv_bytes_per_token", {{"bf16", kv_bf16}, {"f32", kv_f32}, {"int8", kv_int8}}},
      {"state_bytes_per_sequence", state},
      {"context_example",
       {{"tokens", kContextExample},
        {"bytes", state + kContextExample * c.kv_bytes_per_token(kv_dtype)},
        {"bytes_bf16_kv", state + kContextExample * kv_bf16},
        {"bytes_f32_kv", state + kContextExample * kv_f32},
        {"bytes_int8_kv", state + kContextExample * kv_int8}}},
  };
}

void print_text(const nlohmann::json& d) {
  auto line = [](const std::string& key, const std::string& value) {
    std::cout << key << std::string(key.size() < 26 ? 26 - key.size() : 1, ' ') << value << '\n';
  };
  auto i = [&](const char* k) { return std::to_string(d.at(k).get<int64_t>()); };
  auto bytes = [](const nlohmann::json& v) {
    return human_bytes(v.get<int64_t>()) + " (" + std::to_string(v.get<int64_t>()) + " bytes)";
  };
  const nlohmann::json& a = d["attention"];
  const nlohmann::json& m = d["mamba"];
  std::string attention_at;
  for (const auto& l : d["attention_layers"]) attention_at += (attention_at.empty() ? "" : ", ") + l.dump();

  line("model type", d["model_type"].get<std::string>());
  line("layers", i("n_layers") + " (" + i("n_mamba_layers") + " mamba2, " + i("n_attention_layers") +
                     " attention at [" + attention_at + "])");
  std::string kinds;
  for (const auto& k : d["layers"]) kinds += k.get<std::string>() == "attention" ? 'A' : 'M';
  line("layer kinds", kinds + "  (M = mamba2, A = attention)");
  line("hidden size", i("hidden_size"));
  line("intermediate size (MLP)", i("intermediate_size"));
  line("vocab size", i("vocab_size") + (d["tie_word_embeddings"].get<bool>() ? " (tied embeddings)" : ""));
  line("attention heads", a["n_heads"].dump() + " query, " + a["n_kv_heads"].dump() + " kv, head_dim " +
                              a["head_dim"].dump() + ", rotary_dim " + a["rotary_dim"].dump() +
                              ", rope_theta " + a["rope_theta"].dump());
  line("mamba2 mixer", m["n_heads"].dump() + " heads x head_dim " + m["head_dim"].dump() + ", " +
                           m["n_groups"].dump() + " group(s), d_state " + m["d_state"].dump() +
                           ", d_conv " + m["d_conv"].dump() + ", chunk " + m["chunk_size"].dump());
  line("mamba2 shapes", "d_inner " + m["d_inner"].dump() + ", conv_dim " + m["conv_dim"].dump() +
                            ", in_proj rows " + m["in_proj_rows"].dump());
  line("max positions", i("max_position_embeddings"));
  line("parameters", d["n_params_human"].get<std::string>() + " (" + i("n_params") + ")");
  const bool from_file = d["weight_bytes_source"].get<std::string>() == "file";
  line("weights", bytes(d["weight_bytes"]) + (from_file ? ", as stored in the files" : ", computed for bf16"));
  line("weight format", d["weight_format"].get<std::string>());
  line("weight compute", d["weight_compute"].get<std::string>());
  line("weight rounding", d["weight_rounding"].get<std::string>());
  const std::string kv_dtype = d["kv_dtype"].get<std::string>();
  const nlohmann::json& kv = d["kv_bytes_per_token"];
  line("KV cache per token", bytes(kv[kv_dtype]) + ", " + kv_dtype + " (bf16 " + kv["bf16"].dump() + ", f32 " +
                                 kv["f32"].dump() + ", int8 " + kv["int8"].dump() + " with its scales)");
  line("SSM + conv state per seq", bytes(d["state_bytes_per_sequence"]) + ", " + d["state_dtype"].get<std::string>() +
                                       " SSM state, f32 conv window, any context length");
  const nlohmann::json& ctx = d["context_example"];
  line(ctx["tokens"].dump() + " tokens, 1 sequence",
       human_bytes(ctx["bytes"].get<int64_t>()) + " with " + kv_dtype + " KV (state + KV cache)");
}

int run_info(const InfoFlags& flags) {
  ModelConfig config;
  int64_t weight_bytes = 0;
  std::string weight_source;
  if (!flags.config_path.empty()) {
    config = load_model_config(flags.config_path);
    weight_bytes = config.n_params() * int64_t(dtype_size(DType::BF16));
    weight_source = "computed_bf16";
  } else {
    const std::filesystem::path dir = resolve_model_dir(flags.model_dir);
    config = load_model_config(dir / "config.json");
    weight_bytes = int64_t(io::TensorStore::open_dir(dir).total_bytes());
    weight_source = "file";
  }
  const nlohmann::json d =
      describe(config, weight_bytes, weight_source, flags.cache.kv_dtype(false), flags.cache.state_dtype());
  if (flags.json) {
    std::cout << json_line(d) << std::endl;
  } else {
    print_text(d);
  }
  return 0;
}

}  // namespace

Command add_info_command(CLI::App& root) {
  auto flags = std::make_shared<InfoFlags>();
  CLI::App* cmd = root.add_subcommand("info", "architecture, parameter count and memory costs of a model");
  CLI::Option* model = add_model_flag(*cmd, flags->model_dir);
  cmd->add_option("--config", flags->config_path, "a config.json alone (weight bytes computed for bf16)")
      ->check(CLI::ExistingFile)
      ->excludes(model);
  add_cache_flags(*cmd, flags->cache);
  cmd->add_flag("--json", flags->json, "print one JSON object");
  return {cmd, [flags] { return run_info(*flags); }};
}

}  // namespace bamba::cli

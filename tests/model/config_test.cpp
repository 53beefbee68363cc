// ModelConfig and GenerationDefaults: the tiny configs parse to the shapes golden.json
// derives, every default and validation rule of numerics §1, and errors that name the key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "golden.h"
#include "io/json_file.h"
#include "model/config.h"
#include "model/generation_config.h"

namespace bamba::testing {
namespace {

nlohmann::json tiny_config(const std::string& model) {
  return io::read_json_file(model_dir(model) / "config.json");
}

// Expects parse_model_config(j) to throw an Error whose message contains every part.
void expect_config_error(const nlohmann::json& j, std::initializer_list<std::string> parts) {
  try {
    (void)parse_model_config(j, "dir/config.json");
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("dir/config.json"), std::string::npos) << message;
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message << " lacks " << part;
  }
}

TEST(ModelConfig, TinyConfigsMatchGoldenDerivedShapes) {
  for (const std::string model : {"tiny-a", "tiny-b"}) {
    const ModelConfig c = load_model_config(model_dir(model) / "config.json");
    const nlohmann::json derived = io::read_json_file(model_dir(model) / "golden.json").at("derived_shapes");
    EXPECT_EQ(c.model_type, "bamba");
    EXPECT_EQ(c.head_dim, derived.at("head_dim").get<int64_t>());
    EXPECT_EQ(c.rotary_dim, derived.at("rotary_dim").get<int64_t>());
    EXPECT_EQ(c.d_inner, derived.at("d_inner").get<int64_t>());
    EXPECT_EQ(c.conv_dim, derived.at("conv_dim").get<int64_t>());
    EXPECT_EQ(c.in_proj_rows, derived.at("in_proj_rows").get<int64_t>());
    EXPECT_EQ(c.d_inner / c.mamba_n_groups, derived.at("gated_norm_group_size").get<int64_t>());
    const auto types = derived.at("layer_types").get<std::vector<std::string>>();
    ASSERT_EQ(c.layer_kinds.size(), types.size());
    for (size_t i = 0; i < types.size(); ++i) {
      EXPECT_EQ(c.layer_kinds[i] == LayerKind::Attention, types[i] == "attention") << model << " layer " << i;
    }
    EXPECT_EQ(c.n_attention_layers() + c.n_mamba_layers(), c.n_layers);
    EXPECT_EQ(c.bos_token_id, 1);
    EXPECT_EQ(c.pad_token_id, 0);
    EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{2});
  }
}

TEST(ModelConfig, SizesOfTinyA) {
  const ModelConfig c = load_model_config(model_dir("tiny-a") / "config.json");
  // 1 attention layer, K and V of nkv*hd = 32 each.
  EXPECT_EQ(c.kv_bytes_per_token(DType::F32), 1 * 2 * 32 * 4);
  EXPECT_EQ(c.kv_bytes_per_token(DType::BF16), 1 * 2 * 32 * 2);
  // 3 mamba layers: conv window 3*160 + state 8*16*16, f32.
  EXPECT_EQ(c.state_bytes_per_sequence(), 3 * (3 * 160 + 8 * 16 * 16) * 4);
  // Untied: embed + lm_head; per layer 2 norms + MLP; mixers per kind; final norm.
  const int64_t mlp = 3 * 128 * 64 + 2 * 64;
  const int64_t mamba = 296 * 64 + 160 * 4 + 3 * 8 + 128 + 64 * 128;
  const int64_t attention = 64 * 64 + 2 * 32 * 64 + 64 * 64;
  EXPECT_EQ(c.n_params(), 2 * 512 * 64 + 64 + 4 * mlp + 3 * mamba + attention);
}

TEST(ModelConfig, DefaultsOfBambaConfig) {
  const ModelConfig c = parse_model_config(nlohmann::json{{"model_type", "bamba"}}, "config.json");
  EXPECT_EQ(c.vocab_size, 128000);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.n_layers, 32);
  EXPECT_EQ(c.n_attention_layers(), 0);  // attn_layer_indices null => all Mamba2
  EXPECT_EQ(c.n_heads, 32);
  EXPECT_EQ(c.n_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.rotary_dim, 64);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.mamba_n_heads, 128);
  EXPECT_EQ(c.mamba_head_dim, 64);  // "auto": E / mh = 8192 / 128
  EXPECT_EQ(c.mamba_n_groups, 1);
  EXPECT_EQ(c.mamba_d_state, 256);
  EXPECT_EQ(c.mamba_d_conv, 4);
  EXPECT_EQ(c.mamba_chunk_size, 256);
  EXPECT_EQ(c.d_inner, 8192);
  EXPECT_TRUE(c.mamba_conv_bias);
  EXPECT_FALSE(c.mamba_proj_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
}

TEST(ModelConfig, OptionalKeys) {
  nlohmann::json j = tiny_config("tiny-a");
  j["num_key_value_heads"] = nullptr;  // null => num_attention_heads
  j["mamba_d_head"] = "auto";
  j["head_dim"] = 32;
  j.erase("attn_rotary_emb");
  j["rope_theta"] = 500000.0;
  j["eos_token_id"] = {2, 7};
  j["bos_token_id"] = nullptr;
  j["time_step_limit"] = {0.0, std::numeric_limits<double>::infinity()};
  const ModelConfig c = parse_model_config(j, "config.json");
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.mamba_head_dim, 16);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.rotary_dim, 16);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{2, 7}));
  EXPECT_FALSE(c.bos_token_id.has_value());
}

TEST(ModelConfig, TimeStepLimitInfinityFromFile) {
  const nlohmann::json j = io::parse_json_text(R"({"model_type": "bamba", "time_step_limit": [0.0, Infinity]})",
                                               "config.json");
  EXPECT_NO_THROW((void)parse_model_config(j, "config.json"));
}

struct BadKey {
  const char* key;
  nlohmann::json value;
  std::vector<std::string> message_parts;
};

TEST(ModelConfig, ValidationErrorsNameKeyExpectedAndFound) {
  const std::vector<BadKey> cases = {
      {"num_key_value_heads", 3, {"num_key_value_heads", "divisor of num_attention_heads (4)", "found 3"}},
      {"num_attention_heads", 6, {"num_attention_heads", "divisor of hidden_size (64)", "found 6"}},
      {"mamba_n_groups", 3, {"mamba_n_groups", "divisor of mamba_n_heads (8)", "found 3"}},
      {"mamba_d_head", 8, {"mamba_d_head", "== mamba_expand * hidden_size (128)", "found 8"}},
      {"attn_layer_indices", {1, 4}, {"attn_layer_indices", "[0, num_hidden_layers = 4)", "found 4"}},
      {"attn_layer_indices", {1, 1}, {"attn_layer_indices", "at most once"}},
      {"attn_layer_indices", {-1}, {"attn_layer_indices", "found -1"}},
      {"attn_layer_indices", "1", {"attn_layer_indices", "a list of layer indices"}},
      {"hidden_size", 0, {"hidden_size", "an integer in [1,", "found 0"}},
      {"vocab_size", -5, {"vocab_size", "found -5"}},
      {"hidden_size", 64.5, {"hidden_size", "an integer", "64.5"}},
      {"hidden_size", "64", {"hidden_size", "an integer", "\"64\""}},
      {"tie_word_embeddings", 1, {"tie_word_embeddings", "true or false"}},
      {"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}, {"rope_scaling", "null", "linear"}},
      {"rope_theta", -1.0, {"rope_theta", "positive"}},
      {"attention_bias", true, {"attention_bias", "false"}},
      {"mlp_bias", true, {"mlp_bias", "false"}},
      {"hidden_act", "gelu", {"hidden_act", "\"silu\"", "gelu"}},
      {"time_step_limit", {0.001, 0.1}, {"time_step_limit", "not supported", "0.001"}},
      {"attn_rotary_emb", 16, {"attn_rotary_emb", "= 8", "found 16"}},
      {"partial_rotary_factor", 0.0, {"partial_rotary_factor", "(0, 1]"}},
      {"eos_token_id", "2", {"eos_token_id", "token id"}},
      {"eos_token_id", {2, -1}, {"eos_token_id", "token ids"}},
      {"model_type", 7, {"model_type", "a string"}},
      {"mamba_expand", 0, {"mamba_expand", "positive"}},
      {"rms_norm_eps", 0, {"rms_norm_eps", "positive"}},
  };
  for (const BadKey& bad : cases) {
    SCOPED_TRACE(std::string(bad.key) + " = " + bad.value.dump());
    nlohmann::json j = tiny_config("tiny-a");
    j[bad.key] = bad.value;
    try {
      (void)parse_model_config(j, "dir/config.json");
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("dir/config.json"), std::string::npos) << message;
      for (const std::string& part : bad.message_parts) {
        EXPECT_NE(message.find(part), std::string::npos) << message << "  lacks: " << part;
      }
    }
  }
}

TEST(ModelConfig, NotAnObject) {
  expect_config_error(nlohmann::json::array({1, 2}), {"JSON object"});
  expect_config_error(nlohmann::json::object(), {"model_type", "missing"});
}

TEST(ModelConfig, HugeSizesAreRejectedNotOverflowed) {
  nlohmann::json j = tiny_config("tiny-a");
  j["mamba_d_state"] = 1 << 24;
  j["mamba_n_groups"] = 8;
  j["hidden_size"] = 1 << 24;
  j["mamba_d_head"] = "auto";
  j["num_attention_heads"] = 1 << 20;
  j["num_key_value_heads"] = 1 << 20;
  expect_config_error(j, {"larger than this engine supports"});
}

TEST(GenerationDefaults, TinyFileAndAbsentFile) {
  const GenerationDefaults g = load_generation_defaults(model_dir("tiny-a"));
  EXPECT_EQ(g.bos_token_id, 1);
  EXPECT_EQ(g.eos_token_ids, std::vector<int32_t>{2});
  EXPECT_FALSE(g.temperature.has_value());
  const GenerationDefaults none = load_generation_defaults(std::filesystem::temp_directory_path() / "no-such-model");
  EXPECT_TRUE(none.eos_token_ids.empty());
  EXPECT_FALSE(none.do_sample.has_value());
}

TEST(GenerationDefaults, SamplingKeys) {
  const nlohmann::json j = {{"do_sample", true}, {"temperature", 0.6}, {"top_k", 50},
                            {"top_p", 0.9},     {"min_p", 0.05},     {"repetition_penalty", 1.1},
                            {"max_new_tokens", 256}, {"eos_token_id", {0, 2}}};
  const GenerationDefaults g = parse_generation_config(j, "generation_config.json");
  EXPECT_EQ(g.do_sample, true);
  EXPECT_EQ(g.temperature, 0.6);
  EXPECT_EQ(g.top_k, 50);
  EXPECT_EQ(g.top_p, 0.9);
  EXPECT_EQ(g.min_p, 0.05);
  EXPECT_EQ(g.repetition_penalty, 1.1);
  EXPECT_EQ(g.max_new_tokens, 256);
  EXPECT_EQ(g.eos_token_ids, (std::vector<int32_t>{0, 2}));
}

TEST(GenerationDefaults, BadValuesNameTheKey) {
  const std::vector<std::pair<const char*, nlohmann::json>> cases = {
      {"temperature", -1.0}, {"top_p", 0.0},     {"top_p", 1.5},          {"min_p", 2.0},
      {"top_k", -3},         {"top_k", 2.5},     {"repetition_penalty", 0.0}, {"max_new_tokens", 0},
      {"do_sample", "yes"},  {"eos_token_id", {{"a", 1}}}};
  for (const auto& [key, value] : cases) {
    try {
      (void)parse_generation_config(nlohmann::json{{key, value}}, "generation_config.json");
      ADD_FAILURE() << key << " = " << value.dump() << ": no error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("generation_config.json"), std::string::npos) << message;
      EXPECT_NE(message.find(key), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace bamba::testing

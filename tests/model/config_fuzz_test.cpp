// Seeded fuzzing of the config parser: random JSON values under random keys of a valid
// config must give a valid ModelConfig or a bamba::Error — never another exception or a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "golden.h"
#include "io/json_file.h"
#include "model/config.h"
#include "model/generation_config.h"

namespace bamba::testing {
namespace {

const char* const kKeys[] = {
    "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "attn_layer_indices",
    "num_attention_heads", "num_key_value_heads", "head_dim", "rope_theta", "partial_rotary_factor",
    "attn_rotary_emb", "rope_scaling", "rms_norm_eps", "tie_word_embeddings", "hidden_act",
    "mamba_n_heads", "mamba_d_head", "mamba_n_groups", "mamba_d_state", "mamba_d_conv", "mamba_expand",
    "mamba_chunk_size", "mamba_conv_bias", "mamba_proj_bias", "time_step_limit", "attention_bias",
    "mlp_bias", "bos_token_id", "eos_token_id", "pad_token_id", "max_position_embeddings", "model_type",
    "temperature", "top_k", "top_p", "min_p", "repetition_penalty", "max_new_tokens", "do_sample",
    "unrelated_key"};

nlohmann::json random_value(std::mt19937& gen, int depth = 0) {
  std::uniform_int_distribution<int> kind(0, depth > 1 ? 6 : 8);
  switch (kind(gen)) {
    case 0: return nullptr;
    case 1: return std::uniform_int_distribution<int>(0, 1)(gen) == 1;
    case 2: return std::uniform_int_distribution<int64_t>(-4, 300)(gen);  // small, often valid
    case 3: {  // any magnitude, either sign
      const int bits = std::uniform_int_distribution<int>(0, 63)(gen);
      const int64_t v = int64_t(std::uniform_int_distribution<uint64_t>()(gen) >> (63 - bits));
      return std::uniform_int_distribution<int>(0, 1)(gen) ? v : -v;
    }
    case 4: return std::uniform_int_distribution<uint64_t>()(gen);
    case 5: {
      const double specials[] = {0.0, -0.0, 0.5, 1e-5, 2.0, 1e300, -1.0,
                                 std::numeric_limits<double>::infinity(), std::nan("")};
      return specials[std::uniform_int_distribution<size_t>(0, std::size(specials) - 1)(gen)];
    }
    case 6: {
      const char* strings[] = {"auto", "silu", "bamba", "", "64", "Infinity"};
      return strings[std::uniform_int_distribution<size_t>(0, std::size(strings) - 1)(gen)];
    }
    case 7: {
      nlohmann::json a = nlohmann::json::array();
      const int n = std::uniform_int_distribution<int>(0, 4)(gen);
      for (int i = 0; i < n; ++i) a.push_back(random_value(gen, depth + 1));
      return a;
    }
    default: {
      nlohmann::json o = nlohmann::json::object();
      o["type"] = random_value(gen, depth + 1);
      return o;
    }
  }
}

TEST(ConfigFuzz, RandomValuesGiveConfigsOrErrors) {
  const nlohmann::json base = io::read_json_file(model_dir("tiny-b") / "config.json");
  std::mt19937 gen(20240611);
  int parsed = 0, rejected = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    nlohmann::json j = base;
    const int edits = std::uniform_int_distribution<int>(1, 3)(gen);
    for (int e = 0; e < edits; ++e) {
      const char* key = kKeys[std::uniform_int_distribution<size_t>(0, std::size(kKeys) - 1)(gen)];
      if (std::uniform_int_distribution<int>(0, 9)(gen) == 0) {
        j.erase(key);
      } else {
        j[key] = random_value(gen);
      }
    }
    try {
      const ModelConfig c = parse_model_config(j, "fuzz/config.json");
      ++parsed;
      EXPECT_GT(c.n_params(), 0);
      EXPECT_GE(c.kv_bytes_per_token(DType::BF16), 0);
      EXPECT_GE(c.state_bytes_per_sequence(), 0);
      EXPECT_EQ(c.mamba_n_heads * c.mamba_head_dim, c.d_inner);
      EXPECT_EQ(c.n_heads % c.n_kv_heads, 0);
      EXPECT_EQ(int64_t(c.layer_kinds.size()), c.n_layers);
    } catch (const Error&) {
      ++rejected;
    }
    try {
      (void)parse_generation_config(j, "fuzz/generation_config.json");
    } catch (const Error&) {
    }
  }
  EXPECT_GT(parsed, 100);
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace bamba::testing

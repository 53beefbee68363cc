// StateCache: slot acquire/release, zeroed state on reuse, KV block accounting and
// can_grow, K/V rows round-tripping through both KV dtypes, and option errors.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/half.h"
#include "model/config.h"
#include "state/state_cache.h"

namespace bamba {
namespace {

ModelConfig tiny_config(bool with_attention = true) {
  nlohmann::json j = {{"model_type", "bamba"}, {"vocab_size", 32}, {"hidden_size", 16},
                      {"intermediate_size", 32}, {"num_hidden_layers", 3}, {"num_attention_heads", 4},
                      {"num_key_value_heads", 2}, {"mamba_n_heads", 4}, {"mamba_d_state", 8},
                      {"mamba_n_groups", 2}, {"mamba_chunk_size", 8}};
  if (with_attention) j["attn_layer_indices"] = {1};
  return parse_model_config(j, "test config");
}

StateCacheOptions options(int slots, int64_t blocks, int64_t block_len = 4, DType kv = DType::BF16) {
  StateCacheOptions o;
  o.max_sequences = slots;
  o.kv_block_count = blocks;
  o.block_len = block_len;
  o.kv_dtype = kv;
  return o;
}

TEST(StateCache, AcquireAndReleaseSlots) {
  StateCache cache(tiny_config(), options(2, 8));
  EXPECT_EQ(cache.max_sequences(), 2);
  EXPECT_EQ(cache.free_slots(), 2);
  const auto a = cache.acquire(), b = cache.acquire();
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(cache.acquire().has_value());
  EXPECT_EQ(cache.free_slots(), 0);
  cache.release(*a);
  EXPECT_FALSE(cache.is_active(*a));
  EXPECT_THROW((void)cache.n_tokens(*a), Error);
  EXPECT_THROW(cache.release(*a), Error);
  EXPECT_THROW(cache.release(5), Error);
  EXPECT_EQ(cache.acquire(), a);
}

TEST(StateCache, ReusedSlotStartsZeroed) {
  const ModelConfig config = tiny_config();
  StateCache cache(config, options(1, 8));
  const int seq = *cache.acquire();
  float* conv = cache.conv_window(seq, 0);
  float* ssm = cache.ssm_state(seq, 2);
  conv[0] = 1.0f;
  ssm[config.ssm_state_size() - 1] = 2.0f;
  cache.reserve(seq, 3);
  cache.advance(seq, 3);
  cache.release(seq);
  ASSERT_EQ(cache.acquire(), seq);
  EXPECT_EQ(cache.n_tokens(seq), 0);
  EXPECT_EQ(cache.conv_window(seq, 0)[0], 0.0f);
  EXPECT_EQ(cache.ssm_state(seq, 2)[config.ssm_state_size() - 1], 0.0f);
  EXPECT_TRUE(cache.block_table(seq).empty());
}

TEST(StateCache, LayerViewsAreDisjointAndKindChecked) {
  const ModelConfig config = tiny_config();
  StateCache cache(config, options(2, 8));
  const int a = *cache.acquire(), b = *cache.acquire();
  EXPECT_EQ(cache.ssm_state(a, 0), cache.conv_window(a, 0) + config.conv_window_size());
  EXPECT_NE(cache.conv_window(a, 0), cache.conv_window(a, 2));
  EXPECT_NE(cache.conv_window(a, 0), cache.conv_window(b, 0));
  EXPECT_THROW((void)cache.conv_window(a, 1), Error);  // layer 1 is attention
  EXPECT_THROW((void)cache.ssm_state(a, 3), Error);    // no layer 3
  std::vector<const void*> k, v;
  EXPECT_THROW(cache.kv_block_pointers(a, 0, k, v), Error);  // layer 0 is Mamba2
}

TEST(StateCache, BlockAccounting) {
  StateCache cache(tiny_config(), options(2, 5, 4));
  EXPECT_EQ(cache.total_blocks(), 5);
  EXPECT_EQ(cache.free_blocks(), 5);
  const int a = *cache.acquire(), b = *cache.acquire();
  EXPECT_TRUE(cache.can_grow(a, 20));
  EXPECT_FALSE(cache.can_grow(a, 21));
  cache.reserve(a, 5);  // positions 0..4: 2 blocks
  cache.advance(a, 5);
  EXPECT_EQ(cache.n_tokens(a), 5);
  EXPECT_EQ(cache.free_blocks(), 3);
  EXPECT_EQ(cache.block_table(a).size(), 2u);
  EXPECT_TRUE(cache.can_grow(a, 3));   // fits in the second block
  cache.reserve(a, 3);
  EXPECT_EQ(cache.free_blocks(), 3);
  cache.advance(a, 3);
  EXPECT_TRUE(cache.can_grow(b, 12));
  EXPECT_FALSE(cache.can_grow(b, 13));
  EXPECT_THROW(cache.reserve(b, 13), Error);
  EXPECT_EQ(cache.free_blocks(), 3);
  cache.release(a);
  EXPECT_EQ(cache.free_blocks(), 5);
  EXPECT_TRUE(cache.can_grow(b, 20));
  EXPECT_EQ(cache.blocks_for_positions(0), 0);
  EXPECT_EQ(cache.blocks_for_positions(4), 1);
  EXPECT_EQ(cache.blocks_for_positions(5), 2);
}

TEST(StateCache, PureMambaModelNeedsNoBlocks) {
  StateCache cache(tiny_config(false), options(1, 0));
  const int seq = *cache.acquire();
  EXPECT_TRUE(cache.can_grow(seq, 1 << 20));
  cache.reserve(seq, 100);
  EXPECT_TRUE(cache.block_table(seq).empty());
}

TEST(StateCache, BlocksForBytes) {
  const ModelConfig config = tiny_config();
  // One attention layer, K and V of nkv*hd = 2*4 = 8 channels: 32 bytes a position in BF16.
  EXPECT_EQ(config.kv_bytes_per_token(DType::BF16), 32);
  EXPECT_EQ(StateCache::blocks_for_bytes(config, options(1, 0, 4), 32 * 4 * 10 + 5), 10);
  EXPECT_EQ(StateCache::blocks_for_bytes(config, options(1, 0, 4, DType::F32), 64 * 4 * 3), 3);
  EXPECT_EQ(StateCache::blocks_for_bytes(tiny_config(false), options(1, 0), 1 << 20), 0);
}

TEST(StateCache, KvRowsRoundTrip) {
  const ModelConfig config = tiny_config();
  const int64_t row = config.n_kv_heads * config.head_dim;
  for (DType kv : {DType::F32, DType::BF16}) {
    StateCache cache(config, options(2, 6, 4, kv));
    const int a = *cache.acquire(), b = *cache.acquire();
    cache.reserve(b, 1);  // b takes block 0, so a's blocks are not 0, 1, ...
    cache.reserve(a, 6);
    std::vector<float> k(static_cast<size_t>(row)), v(static_cast<size_t>(row));
    for (int64_t pos = 0; pos < 6; ++pos) {
      for (int64_t i = 0; i < row; ++i) {
        k[size_t(i)] = float(pos * 100 + i) + 0.25f;
        v[size_t(i)] = -float(pos * 100 + i);
      }
      cache.write_kv(a, 1, pos, k.data(), v.data());
    }
    std::vector<const void*> k_blocks, v_blocks;
    cache.kv_block_pointers(a, 1, k_blocks, v_blocks);
    ASSERT_EQ(k_blocks.size(), 2u);
    for (int64_t pos = 0; pos < 6; ++pos) {
      for (int64_t i = 0; i < row; ++i) {
        const int64_t at = (pos % 4) * row + i;
        float k_read, v_read;
        if (kv == DType::F32) {
          k_read = static_cast<const float*>(k_blocks[size_t(pos / 4)])[at];
          v_read = static_cast<const float*>(v_blocks[size_t(pos / 4)])[at];
        } else {
          k_read = bf16_to_f32(static_cast<const bf16_t*>(k_blocks[size_t(pos / 4)])[at]);
          v_read = bf16_to_f32(static_cast<const bf16_t*>(v_blocks[size_t(pos / 4)])[at]);
        }
        const float k_expected = float(pos * 100 + i) + 0.25f, v_expected = -float(pos * 100 + i);
        EXPECT_EQ(k_read, kv == DType::F32 ? k_expected : bf16_to_f32(f32_to_bf16(k_expected)));
        EXPECT_EQ(v_read, kv == DType::F32 ? v_expected : bf16_to_f32(f32_to_bf16(v_expected)));
      }
    }
  }
}

TEST(StateCache, BadOptions) {
  const ModelConfig config = tiny_config();
  EXPECT_THROW(StateCache(config, options(0, 4)), Error);
  EXPECT_THROW(StateCache(config, options(1, -1)), Error);
  EXPECT_THROW(StateCache(config, options(1, 4, 0)), Error);
  EXPECT_THROW(StateCache(config, options(1, 4, 4, DType::F16)), Error);
}

}  // namespace
}  // namespace bamba

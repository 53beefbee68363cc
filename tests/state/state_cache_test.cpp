// StateCache: slot acquire/release, zeroed state on reuse, KV block accounting and
// can_grow, K/V rows round-tripping through every KV dtype (int8 within its rounding), bf16
// SSM states, and option errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/half.h"
#include "kernels/ops.h"
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

StateCacheOptions options(int slots, int64_t blocks, int64_t block_len = 4, DType kv = DType::BF16,
                          DType state = DType::F32) {
  StateCacheOptions o;
  o.max_sequences = slots;
  o.kv_block_count = blocks;
  o.block_len = block_len;
  o.kv_dtype = kv;
  o.state_dtype = state;
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
  EXPECT_EQ(cache.ssm_state(a, 2) - cache.ssm_state(a, 0), config.ssm_state_size());
  EXPECT_NE(cache.ssm_state(a, 0), cache.ssm_state(b, 0));
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

TEST(StateCache, Int8KvBytes) {
  const ModelConfig config = tiny_config();
  // Per position and layer: K and V, each 2 kv heads of 4 int8 values and one f32 scale.
  EXPECT_EQ(config.kv_bytes_per_token(DType::I8), 2 * 2 * (4 + 4));
  // A block of 4 positions: 32 bytes of values, then 8 scales, for K and for V.
  EXPECT_EQ(kernels::int8_kv_scales_offset(4, 2, 4), 32);
  EXPECT_EQ(StateCache::kv_bytes_per_block(config, options(1, 0, 4, DType::I8)), 2 * (32 + 8 * 4));
  EXPECT_EQ(StateCache::kv_bytes_per_block(config, options(1, 0, 4, DType::I8)),
            4 * config.kv_bytes_per_token(DType::I8));
  EXPECT_EQ(StateCache::blocks_for_bytes(config, options(1, 0, 4, DType::I8), 128 * 7 + 127), 7);
  // An odd block: 3 positions x 2 heads x 4 = 24 value bytes, already aligned; 5 positions of
  // 1 head of 3 values = 15 bytes round up to 16 before the scales.
  EXPECT_EQ(kernels::int8_kv_scales_offset(5, 1, 3), 16);
  EXPECT_EQ(kernels::kv_block_bytes(DType::I8, 5, 1, 3), 16 + 5 * 4);
}

TEST(StateCache, Int8KvBlockAccounting) {
  StateCache cache(tiny_config(), options(2, 3, 4, DType::I8));
  EXPECT_EQ(cache.kv_dtype(), DType::I8);
  const int a = *cache.acquire();
  EXPECT_TRUE(cache.can_grow(a, 12));
  EXPECT_FALSE(cache.can_grow(a, 13));
  cache.reserve(a, 9);
  EXPECT_EQ(cache.free_blocks(), 0);
  std::vector<const void*> k, v;
  cache.kv_block_pointers(a, 1, k, v);
  ASSERT_EQ(k.size(), 3u);
  // Blocks lie block_bytes apart in the pool: 32 value bytes + 8 scales.
  const auto* k0 = static_cast<const std::byte*>(k[0]);
  EXPECT_EQ(static_cast<const std::byte*>(k[1]) - k0, 64);
  EXPECT_EQ(static_cast<const std::byte*>(k[2]) - k0, 128);
  cache.release(a);
  EXPECT_EQ(cache.free_blocks(), 3);
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

// Reads row (pos, all kv heads) of an int8 block as f32: values times their head's scale.
std::vector<float> int8_row(const void* block, int64_t pos_in_block, int64_t block_len, int64_t kv_heads,
                            int64_t head_dim) {
  const auto* bytes = static_cast<const std::byte*>(block);
  const auto* values = reinterpret_cast<const int8_t*>(bytes) + pos_in_block * kv_heads * head_dim;
  const auto* scales =
      reinterpret_cast<const float*>(bytes + kernels::int8_kv_scales_offset(block_len, kv_heads, head_dim)) +
      pos_in_block * kv_heads;
  std::vector<float> out(size_t(kv_heads * head_dim));
  for (int64_t i = 0; i < kv_heads * head_dim; ++i) out[size_t(i)] = float(values[i]) * scales[i / head_dim];
  return out;
}

TEST(StateCache, Int8KvRowsRoundTrip) {
  const ModelConfig config = tiny_config();
  const int64_t hd = config.head_dim, nkv = config.n_kv_heads, row = nkv * hd;
  StateCache cache(config, options(2, 6, 4, DType::I8));
  const int a = *cache.acquire(), b = *cache.acquire();
  cache.reserve(b, 1);
  cache.reserve(a, 6);
  const auto k_value = [](int64_t pos, int64_t i) { return std::sin(float(pos * 7 + i)) * float(pos + 1); };
  const auto v_value = [](int64_t pos, int64_t i) { return i == 0 ? 0.0f : -0.01f * float(pos * 3 + i); };
  std::vector<float> k(static_cast<size_t>(row)), v(static_cast<size_t>(row));
  for (int64_t pos = 0; pos < 6; ++pos) {
    for (int64_t i = 0; i < row; ++i) k[size_t(i)] = k_value(pos, i), v[size_t(i)] = v_value(pos, i);
    cache.write_kv(a, 1, pos, k.data(), v.data());
  }
  std::vector<float> zeros(static_cast<size_t>(row), 0.0f);
  cache.write_kv(b, 1, 0, zeros.data(), zeros.data());  // an all-zero row: scale 0, values 0
  std::vector<const void*> k_blocks, v_blocks;
  cache.kv_block_pointers(a, 1, k_blocks, v_blocks);
  for (int64_t pos = 0; pos < 6; ++pos) {
    const std::vector<float> k_read = int8_row(k_blocks[size_t(pos / 4)], pos % 4, 4, nkv, hd);
    const std::vector<float> v_read = int8_row(v_blocks[size_t(pos / 4)], pos % 4, 4, nkv, hd);
    for (int64_t h = 0; h < nkv; ++h) {
      float k_max = 0, v_max = 0;
      for (int64_t c = 0; c < hd; ++c) {
        k_max = std::max(k_max, std::fabs(k_value(pos, h * hd + c)));
        v_max = std::max(v_max, std::fabs(v_value(pos, h * hd + c)));
      }
      for (int64_t c = 0; c < hd; ++c) {
        const int64_t i = h * hd + c;
        // Rounding to the nearest step of max|row|/127 errs by at most half a step.
        EXPECT_NEAR(k_read[size_t(i)], k_value(pos, i), k_max / 254 * 1.0001f) << "pos " << pos << " i " << i;
        EXPECT_NEAR(v_read[size_t(i)], v_value(pos, i), v_max / 254 * 1.0001f) << "pos " << pos << " i " << i;
      }
    }
  }
  cache.kv_block_pointers(b, 1, k_blocks, v_blocks);
  for (float x : int8_row(k_blocks[0], 0, 4, nkv, hd)) EXPECT_EQ(x, 0.0f);
}

TEST(StateCache, Bf16SsmStateRoundTrip) {
  const ModelConfig config = tiny_config();
  const int64_t n = config.ssm_state_size();
  StateCache cache(config, options(2, 4, 4, DType::BF16, DType::BF16));
  EXPECT_EQ(cache.state_dtype(), DType::BF16);
  const int a = *cache.acquire(), b = *cache.acquire();
  EXPECT_THROW((void)cache.ssm_state(a, 0), Error);  // no f32 view of a bf16 state
  std::vector<float> state(static_cast<size_t>(n)), read(static_cast<size_t>(n), -1.0f);
  for (int64_t i = 0; i < n; ++i) state[size_t(i)] = 1.0f / float(i + 3) - 0.1f;
  cache.store_ssm_state(a, 2, state.data());
  cache.load_ssm_state(a, 2, read.data());
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(read[size_t(i)], bf16_to_f32(f32_to_bf16(state[size_t(i)]))) << i;  // round to nearest even
  }
  cache.load_ssm_state(a, 0, read.data());  // another layer, and another slot: untouched zeros
  for (float x : read) EXPECT_EQ(x, 0.0f);
  cache.load_ssm_state(b, 2, read.data());
  for (float x : read) EXPECT_EQ(x, 0.0f);
  // The conv window stays f32.
  cache.conv_window(a, 2)[0] = 1.0f / 3.0f;
  EXPECT_EQ(cache.conv_window(a, 2)[0], 1.0f / 3.0f);
  // A reused slot starts from zeros.
  cache.release(a);
  ASSERT_EQ(cache.acquire(), a);
  cache.load_ssm_state(a, 2, read.data());
  for (float x : read) EXPECT_EQ(x, 0.0f);
  // Half of the f32 state bytes, the conv windows unchanged.
  EXPECT_EQ(config.state_bytes_per_sequence(DType::F32) - config.state_bytes_per_sequence(DType::BF16),
            config.n_mamba_layers() * n * 2);
}

TEST(StateCache, F32SsmStateLoadAndStore) {
  const ModelConfig config = tiny_config();
  StateCache cache(config, options(1, 4));
  const int a = *cache.acquire();
  std::vector<float> state(size_t(config.ssm_state_size()), 0.3f), read(state.size());
  cache.store_ssm_state(a, 0, state.data());
  EXPECT_EQ(cache.ssm_state(a, 0)[5], 0.3f);
  cache.ssm_state(a, 0)[5] = 0.7f;
  cache.load_ssm_state(a, 0, read.data());
  EXPECT_EQ(read[5], 0.7f);
}

TEST(StateCache, BadOptions) {
  const ModelConfig config = tiny_config();
  EXPECT_THROW(StateCache(config, options(0, 4)), Error);
  EXPECT_THROW(StateCache(config, options(1, -1)), Error);
  EXPECT_THROW(StateCache(config, options(1, 4, 0)), Error);
  EXPECT_THROW(StateCache(config, options(1, 4, 4, DType::F16)), Error);
  EXPECT_THROW(StateCache(config, options(1, 4, 4, DType::I8, DType::I8)), Error);  // state: F32 or BF16
  EXPECT_THROW(StateCache(config, options(1, 4, 4, DType::I8, DType::F16)), Error);
  EXPECT_NO_THROW(StateCache(config, options(1, 4, 4, DType::I8, DType::BF16)));
}

}  // namespace
}  // namespace bamba

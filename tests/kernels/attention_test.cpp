// attention: hand-computed softmax cases, and every ISA variant against the reference for
// GQA shapes, F32, BF16 and int8 paged caches, prefill, continued prefill and decode.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <limits>

#include "kernel_test_util.h"
#include "kernels/reference/quant_math.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

using testing::random_floats;

// One block of K or V in the int8 layout of ops.h: each (position, kv head) row quantized
// with its own scale. NaN rows (past n_ctx) get a NaN scale, so reading them shows.
std::vector<std::byte> int8_block(const std::vector<float>& values, int64_t block_len, int64_t kv_heads,
                                  int64_t head_dim) {
  std::vector<std::byte> block(size_t(kv_block_bytes(DType::I8, block_len, kv_heads, head_dim)));
  auto* q = reinterpret_cast<int8_t*>(block.data());
  auto* scales = reinterpret_cast<float*>(block.data() + int8_kv_scales_offset(block_len, kv_heads, head_dim));
  for (int64_t row = 0; row < block_len * kv_heads; ++row) {
    const float* x = values.data() + row * head_dim;
    scales[row] = std::isnan(x[0]) ? std::numeric_limits<float>::quiet_NaN()
                                   : reference::quantize_activation_row(x, head_dim, q + row * head_dim);
  }
  return block;
}

// A paged KV cache of n_ctx positions; slots past n_ctx in the last block hold NaN, which
// must never be read.
struct PagedCache {
  std::vector<std::vector<float>> k32, v32;
  std::vector<std::vector<uint16_t>> k16, v16;
  std::vector<std::vector<std::byte>> k8, v8;
  std::vector<const void*> k_ptrs, v_ptrs;

  PagedCache(DType dtype, int64_t n_ctx, int64_t block_len, int64_t kv_heads, int64_t head_dim, uint32_t seed) {
    const int64_t n_blocks = (n_ctx + block_len - 1) / block_len;
    const int64_t block_elems = block_len * kv_heads * head_dim;
    for (int64_t b = 0; b < n_blocks; ++b) {
      auto k = random_floats(size_t(block_elems), seed + uint32_t(2 * b), -2, 2);
      auto v = random_floats(size_t(block_elems), seed + uint32_t(2 * b + 1));
      for (int64_t i = 0; i < block_elems; ++i) {
        if (b * block_len + i / (kv_heads * head_dim) >= n_ctx) k[i] = v[i] = std::numeric_limits<float>::quiet_NaN();
      }
      if (dtype == DType::F32) {
        k32.push_back(std::move(k));
        v32.push_back(std::move(v));
        k_ptrs.push_back(k32.back().data());
        v_ptrs.push_back(v32.back().data());
      } else if (dtype == DType::I8) {
        k8.push_back(int8_block(k, block_len, kv_heads, head_dim));
        v8.push_back(int8_block(v, block_len, kv_heads, head_dim));
        k_ptrs.push_back(k8.back().data());
        v_ptrs.push_back(v8.back().data());
      } else {
        std::vector<uint16_t> k_half(k.size()), v_half(v.size());
        for (size_t i = 0; i < k.size(); ++i) k_half[i] = f32_to_bf16(k[i]), v_half[i] = f32_to_bf16(v[i]);
        k16.push_back(std::move(k_half));
        v16.push_back(std::move(v_half));
        k_ptrs.push_back(k16.back().data());
        v_ptrs.push_back(v16.back().data());
      }
    }
  }
};

TEST(Attention, HandComputed) {
  // One head, head_dim 2, keys at positions 0 and 1; query 0 sees key 0 only, query 1 both.
  const float q[2 * 2] = {1, 0, 0.5f, 2};
  const float k[2 * 2] = {1, 1, -1, 0.5f};
  const float v[2 * 2] = {3, -1, 1, 2};
  const void* k_blocks[1] = {k};
  const void* v_blocks[1] = {v};
  AttentionArgs a;
  a.n_tokens = 2, a.first_pos = 0, a.n_heads = 1, a.n_kv_heads = 1, a.head_dim = 2, a.scale = 0.5f;
  a.q = q, a.q_stride = 2, a.k_blocks = k_blocks, a.v_blocks = v_blocks, a.block_len = 4;
  ThreadPool pool(2);
  testing::for_each_isa([&](Isa) {
    float out[2 * 2];
    a.out = out, a.out_stride = 2;
    attention(a, pool);
    EXPECT_FLOAT_EQ(out[0], 3);
    EXPECT_FLOAT_EQ(out[1], -1);
    const double s0 = 0.5 * (0.5 + 2), s1 = 0.5 * (-0.5 + 1);
    const double p0 = std::exp(s0) / (std::exp(s0) + std::exp(s1)), p1 = 1 - p0;
    EXPECT_NEAR(out[2], p0 * 3 + p1 * 1, 1e-6);
    EXPECT_NEAR(out[3], p0 * -1 + p1 * 2, 1e-6);
  });
}

struct Case {
  int64_t heads, kv_heads, head_dim, block_len, first_pos, tokens;
};

TEST(Attention, VariantsMatchReference) {
  const Case cases[] = {
      {4, 2, 16, 16, 0, 1},   {4, 2, 16, 16, 0, 17},  {6, 2, 16, 5, 7, 3},    {3, 3, 34, 16, 40, 1},
      {8, 1, 64, 16, 299, 1}, {8, 2, 64, 32, 0, 70},  {2, 1, 128, 7, 20, 9},  {4, 4, 8, 1, 3, 4},
      {3, 1, 33, 3, 2, 4},  // 99 int8 values per block: the scales start after a padding byte
      {4, 1, 40, 5, 11, 9},  // 36 rows: the register-blocked prompt path, head_dim off the vector width
  };
  ThreadPool pool(2);
  uint32_t seed = 100;
  for (DType dtype : {DType::F32, DType::BF16, DType::I8}) {
    for (const Case& c : cases) {
      const int64_t n_ctx = c.first_pos + c.tokens, width = c.heads * c.head_dim;
      const PagedCache cache(dtype, n_ctx, c.block_len, c.kv_heads, c.head_dim, seed);
      const int64_t q_stride = width + 5, out_stride = width + 3;
      const auto q = random_floats(size_t(c.tokens * q_stride), seed + 1000, -2, 2);
      seed += 7;
      AttentionArgs a;
      a.n_tokens = c.tokens, a.first_pos = c.first_pos, a.n_heads = c.heads, a.n_kv_heads = c.kv_heads;
      a.head_dim = c.head_dim, a.scale = 1.0f / std::sqrt(float(c.head_dim));
      a.q = q.data(), a.q_stride = q_stride, a.k_blocks = cache.k_ptrs.data(), a.v_blocks = cache.v_ptrs.data();
      a.block_len = c.block_len, a.kv_dtype = dtype, a.out_stride = out_stride;
      std::vector<float> want(size_t(c.tokens * out_stride), -7.0f);
      a.out = want.data();
      reference::attention(a, pool);
      testing::for_each_isa([&](Isa) {
        SCOPED_TRACE(::testing::Message() << dtype_name(dtype) << " heads=" << c.heads << "/" << c.kv_heads
                                        << " hd=" << c.head_dim << " block=" << c.block_len
                                        << " first_pos=" << c.first_pos << " tokens=" << c.tokens);
        std::vector<float> got(want.size(), -7.0f);
        a.out = got.data();
        attention(a, pool);
        testing::expect_close(got, want, 2e-6f, 1e-5f);
      });
    }
  }
}

}  // namespace
}  // namespace bamba::kernels

// Reference causal attention over the paged KV cache: for each query and head, all scores,
// a max-subtracted softmax, and the weighted sum of values (numerics §3.1).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/reference/reference.h"
#include "kernels/reference/scalar_math.h"

namespace bamba::kernels::reference {
namespace {

// Element c of kv head kvh at position pos of a paged cache; int8 rows times their scale.
float kv_at(const AttentionArgs& a, const void* const* blocks, int64_t pos, int64_t kvh, int64_t c) {
  const void* block = blocks[pos / a.block_len];
  const int64_t row = (pos % a.block_len) * a.n_kv_heads + kvh;
  if (a.kv_dtype == DType::I8) {
    const auto* bytes = static_cast<const std::byte*>(block);
    const auto* scales =
        reinterpret_cast<const float*>(bytes + int8_kv_scales_offset(a.block_len, a.n_kv_heads, a.head_dim));
    return float(reinterpret_cast<const int8_t*>(bytes)[row * a.head_dim + c]) * scales[row];
  }
  return load_as_f32(block, a.kv_dtype, row * a.head_dim + c);
}

}  // namespace

void attention(const AttentionArgs& a, ThreadPool& pool) {
  const int64_t heads_per_kv = a.n_heads / a.n_kv_heads;
  pool.parallel_for(a.n_tokens * a.n_heads, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t job = begin; job < end; ++job) {
      const int64_t t = job / a.n_heads, h = job % a.n_heads;
      const int64_t kvh = h / heads_per_kv;
      const int64_t n_keys = a.first_pos + t + 1;  // causal: positions 0 .. first_pos + t
      const float* q = a.q + t * a.q_stride + h * a.head_dim;
      scores.assign(size_t(n_keys), 0.0f);
      float max_score = -INFINITY;
      for (int64_t s = 0; s < n_keys; ++s) {
        float dot = 0;
        for (int64_t c = 0; c < a.head_dim; ++c) dot += q[c] * kv_at(a, a.k_blocks, s, kvh, c);
        scores[s] = dot * a.scale;
        max_score = std::max(max_score, scores[s]);
      }
      float sum = 0;
      for (int64_t s = 0; s < n_keys; ++s) {
        scores[s] = std::exp(scores[s] - max_score);
        sum += scores[s];
      }
      float* out = a.out + t * a.out_stride + h * a.head_dim;
      for (int64_t c = 0; c < a.head_dim; ++c) {
        float acc = 0;
        for (int64_t s = 0; s < n_keys; ++s) acc += scores[s] * kv_at(a, a.v_blocks, s, kvh, c);
        out[c] = acc / sum;
      }
    }
  });
}

}  // namespace bamba::kernels::reference

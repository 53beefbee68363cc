// The attention mixer of Bamba's attention layers: GQA with partial RoPE, K/V appended to
// the paged cache, causal attention over each sequence's cached positions (numerics §3.1).
#pragma once

#include <cstdint>
#include <vector>

#include "model/forward_context.h"
#include "model/weights.h"

namespace bamba {

struct AttentionScratch {
  std::vector<float> q;                  // [T, nh*hd]
  std::vector<float> k;                  // [T, nkv*hd]
  std::vector<float> v;                  // [T, nkv*hd]
  std::vector<float> context;            // [T, nh*hd] attention output before o_proj
  std::vector<const void*> k_blocks;     // one sequence's K block pointers
  std::vector<const void*> v_blocks;     // one sequence's V block pointers
};

// out = Attention_layer(x) over all T tokens; appends K (rotated) and V to the cache.
// x, out: [T, H]
void attention_forward(const ForwardContext& ctx, int64_t layer, const AttentionWeights& w, const float* x,
                       float* out, AttentionScratch& s);

}  // namespace bamba

// Attention layer (numerics §3.1). Projections and RoPE run over every token of the batch;
// the cache append and the attention itself run per sequence.
#include "model/attention.h"

#include <cmath>

namespace bamba {

void attention_forward(const ForwardContext& ctx, int64_t layer, const AttentionWeights& w, const float* x,
                       float* out, AttentionScratch& s) {
  const ModelConfig& c = ctx.config;
  const int64_t T = ctx.n_tokens;
  const int64_t q_width = c.n_heads * c.head_dim;      // nh*hd
  const int64_t kv_width = c.n_kv_heads * c.head_dim;  // nkv*hd
  float* q = scratch(s.q, T * q_width);                // [T, nh, hd]   layers.{i}.attn.q
  float* k = scratch(s.k, T * kv_width);               // [T, nkv, hd]  layers.{i}.attn.k
  float* v = scratch(s.v, T * kv_width);               // [T, nkv, hd]  layers.{i}.attn.v
  float* context = scratch(s.context, T * q_width);    // [T, nh, hd]   layers.{i}.attn.context

  // q = x Wq^T;  k = x Wk^T;  v = x Wv^T
  linear(ctx, x, w.q, q);
  linear(ctx, x, w.k, k);
  linear(ctx, x, w.v, v);
  // RoPE on channels [0, rd) of every q and k head, at each token's absolute position
  kernels::rope(q, T, q_width, c.n_heads, c.head_dim, c.rotary_dim, float(c.rope_theta), ctx.positions);
  kernels::rope(k, T, kv_width, c.n_kv_heads, c.head_dim, c.rotary_dim, float(c.rope_theta), ctx.positions);

  for (const BatchSequence& bs : ctx.batch.sequences) {
    const int64_t t0 = bs.token_begin, n = bs.token_end - bs.token_begin;
    // Append this sequence's rotated K and V at its positions (blocks reserved by the caller).
    for (int64_t t = t0; t < bs.token_end; ++t) {
      ctx.cache.write_kv(bs.seq, layer, ctx.positions[t], k + t * kv_width, v + t * kv_width);
    }
    ctx.cache.kv_block_pointers(bs.seq, layer, s.k_blocks, s.v_blocks);
    // o[t, h] = Σ_{s <= p_t} softmax_s(q'_t,h · k'_s,g(h) / sqrt(hd)) v_s,g(h),  g(h) = h // (nh/nkv)
    kernels::AttentionArgs args;
    args.n_tokens = n;
    args.first_pos = ctx.positions[t0];
    args.n_heads = c.n_heads;
    args.n_kv_heads = c.n_kv_heads;
    args.head_dim = c.head_dim;
    args.scale = float(1.0 / std::sqrt(double(c.head_dim)));
    args.q = q + t0 * q_width;
    args.q_stride = q_width;
    args.k_blocks = s.k_blocks.data();
    args.v_blocks = s.v_blocks.data();
    args.block_len = ctx.cache.block_len();
    args.kv_dtype = ctx.cache.kv_dtype();
    args.out = context + t0 * q_width;
    args.out_stride = q_width;
    kernels::attention(args, ctx.pool);
  }
  // out = concat_h(o) Wo^T   [T, H]
  linear(ctx, context, w.o, out);
}

}  // namespace bamba

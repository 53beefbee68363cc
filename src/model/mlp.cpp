// SwiGLU MLP (numerics §3): one matmul per projection over every token of the batch.
#include "model/mlp.h"

namespace bamba {

void mlp_forward(const ForwardContext& ctx, const MlpWeights& w, const float* x, float* out, MlpScratch& s) {
  const int64_t T = ctx.n_tokens, H = ctx.config.hidden_size, I = ctx.config.intermediate_size;
  float* gate = scratch(s.gate, T * I);  // [T, I]  layers.{i}.mlp.gate
  float* up = scratch(s.up, T * I);      // [T, I]  layers.{i}.mlp.up
  // gate = x Wg^T;  up = x Wu^T
  kernels::matmul(x, T, H, w.gate, gate, I, ctx.math, ctx.pool);
  kernels::matmul(x, T, H, w.up, up, I, ctx.math, ctx.pool);
  // act = silu(gate) ⊙ up   (in place in gate)   layers.{i}.mlp.act
  kernels::swiglu(gate, up, T * I, gate);
  // out = act Wd^T   [T, H]
  kernels::matmul(gate, T, I, w.down, out, H, ctx.math, ctx.pool);
}

}  // namespace bamba

// SwiGLU MLP (numerics §3): one matmul per projection over every token of the batch.
#include "model/mlp.h"

namespace bamba {

void mlp_forward(const ForwardContext& ctx, const MlpWeights& w, const float* x, float* out, MlpScratch& s) {
  const int64_t T = ctx.n_tokens, I = ctx.config.intermediate_size;
  float* gate = scratch(s.gate, T * I);  // [T, I]  layers.{i}.mlp.gate
  float* up = scratch(s.up, T * I);      // [T, I]  layers.{i}.mlp.up
  // gate = x Wg^T;  up = x Wu^T
  linear(ctx, x, w.gate, gate);
  linear(ctx, x, w.up, up);
  // act = silu(gate) ⊙ up   (in place in gate)   layers.{i}.mlp.act
  kernels::swiglu(gate, up, T * I, gate);
  // out = act Wd^T   [T, H]
  linear(ctx, gate, w.down, out);
}

}  // namespace bamba

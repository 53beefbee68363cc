// The SwiGLU MLP that follows every mixer: MLP(x) = down( silu(gate x) ⊙ (up x) ).
#pragma once

#include <vector>

#include "model/forward_context.h"
#include "model/weights.h"

namespace bamba {

struct MlpScratch {
  std::vector<float> gate;  // [T, I]
  std::vector<float> up;    // [T, I]
};

// out = MLP(x) over all T tokens of the batch.   x, out: [T, H]
void mlp_forward(const ForwardContext& ctx, const MlpWeights& w, const float* x, float* out, MlpScratch& s);

}  // namespace bamba

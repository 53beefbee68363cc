// The Mamba2 mixer of Bamba's mamba layers (numerics §3.2): in_proj, causal conv, selective
// scan (chunked SSD for prompt chunks, the recurrence for single tokens), per-group gated
// RMSNorm, out_proj. Conv windows and SSM states live in the StateCache slot of each sequence.
#pragma once

#include <cstdint>
#include <vector>

#include "model/forward_context.h"
#include "model/weights.h"

namespace bamba {

struct Mamba2Scratch {
  std::vector<float> zxbcdt;  // [T, 2E+2GN+mh]  in_proj output
  std::vector<float> xbc;     // [T, conv_dim]   after conv + SiLU
  std::vector<float> dt;      // [T, mh]
  std::vector<float> y;       // [T, E]          scan output, then gated-norm output
  std::vector<float> ssm_state;  // [mh, P, N]   a non-f32 cached SSM state widened for the scan
};

// out = Mamba2_layer(x) over all T tokens, advancing each sequence's conv window and SSM
// state.   x, out: [T, H]
void mamba2_forward(const ForwardContext& ctx, int64_t layer, const MambaWeights& w, const float* x, float* out,
                    Mamba2Scratch& s);

}  // namespace bamba

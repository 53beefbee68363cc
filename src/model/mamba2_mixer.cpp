// Mamba2 mixer (numerics §3.2). Projections, dt, the gated norm run over every token of the
// batch; the conv and the scan run per sequence with that sequence's state.
#include "model/mamba2_mixer.h"

namespace bamba {

void mamba2_forward(const ForwardContext& ctx, int64_t layer, const MambaWeights& w, const float* x, float* out,
                    Mamba2Scratch& s) {
  const ModelConfig& c = ctx.config;
  const int64_t T = ctx.n_tokens, H = c.hidden_size;
  const int64_t E = c.d_inner, GN = c.mamba_n_groups * c.mamba_d_state, mh = c.mamba_n_heads;
  const int64_t rows = c.in_proj_rows;       // 2E + 2GN + mh
  float* zxbcdt = scratch(s.zxbcdt, T * rows);  // [T, rows]      layers.{i}.mamba.zxbcdt
  float* xbc = scratch(s.xbc, T * c.conv_dim);  // [T, conv_dim]  layers.{i}.mamba.xbc_conv
  float* dt = scratch(s.dt, T * mh);            // [T, mh]        layers.{i}.mamba.dt
  float* y = scratch(s.y, T * E);               // [T, E]         layers.{i}.mamba.y, then .gated_norm

  // zxbcdt = x Win^T (+ b_in), columns split as [z | xBC | dt_raw]   (pitfall 6)
  linear(ctx, x, w.in_proj, zxbcdt);
  if (c.mamba_proj_bias) add_bias_rows(zxbcdt, T, rows, rows, w.in_proj_bias);
  const float* z = zxbcdt;                        // [T, E]        row stride rows
  const float* xbc_raw = zxbcdt + E;              // [T, conv_dim] row stride rows
  const float* dt_raw = zxbcdt + E + c.conv_dim;  // [T, mh]       row stride rows

  // dt[t,h] = softplus(dt_raw[t,h] + dt_bias[h])   (no clamp: time_step_limit = (0, inf))
  kernels::softplus_bias(dt_raw, rows, T, mh, w.dt_bias.data(), dt);

  for (const BatchSequence& bs : ctx.batch.sequences) {
    const int64_t t0 = bs.token_begin, n = bs.token_end - bs.token_begin;
    // xBC' = silu(bias + Σ_k W[:, k] · xBC[t-(K-1)+k]), continuing from the cached raw window
    kernels::causal_conv1d_silu(xbc_raw + t0 * rows, rows, n, c.conv_dim, ctx.cache.conv_window(bs.seq, layer),
                                w.conv_weight.data(), c.mamba_conv_bias ? w.conv_bias.data() : nullptr,
                                c.mamba_d_conv, xbc + t0 * c.conv_dim, c.conv_dim);
    // xBC' = [x | B | C]; S_h ← exp(dt·A) S_h + dt · x ⊗ B_g(h);  y = S_h C_g(h) + D x
    kernels::SsmScanArgs args;
    args.n_tokens = n;
    args.n_heads = mh;
    args.head_dim = c.mamba_head_dim;
    args.n_groups = c.mamba_n_groups;
    args.d_state = c.mamba_d_state;
    args.x = xbc + t0 * c.conv_dim;
    args.x_stride = c.conv_dim;
    args.B = args.x + E;
    args.C = args.x + E + GN;
    args.bc_stride = c.conv_dim;
    args.dt = dt + t0 * mh;
    args.A = w.A.data();
    args.D = w.D.data();
    // The scan runs on an f32 state: the cached one in place, or (bf16 cache) a widened copy
    // rounded back afterwards.
    const bool staged = ctx.cache.state_dtype() != DType::F32;
    if (staged) {
      args.state = scratch(s.ssm_state, c.ssm_state_size());
      ctx.cache.load_ssm_state(bs.seq, layer, args.state);
    } else {
      args.state = ctx.cache.ssm_state(bs.seq, layer);
    }
    args.y = y + t0 * E;
    args.y_stride = E;
    if (n > 1) {
      kernels::ssd_chunk_scan(args, c.mamba_chunk_size, ctx.pool);
    } else {
      kernels::ssm_scan_recurrent(args, ctx.pool);
    }
    if (staged) ctx.cache.store_ssm_state(bs.seq, layer, args.state);
  }

  // g = norm.weight ⊙ u / rms_group(u),  u = y ⊙ silu(z), per group of E/G channels  (pitfall 1)
  kernels::gated_rms_norm(y, E, z, rows, T, E, c.mamba_n_groups, w.norm.data(), float(c.rms_norm_eps), y, E);
  // out = g Wout^T (+ b_out)   [T, H]
  linear(ctx, y, w.out_proj, out);
  if (c.mamba_proj_bias) add_bias_rows(out, T, H, H, w.out_proj_bias);
}

}  // namespace bamba

// The Bamba layer loop (numerics §3):
//   h = embed[ids]
//   for layer i:  h += Mixer_i(RMSNorm(h; input_layernorm_i));  h += MLP_i(RMSNorm(h; pre_ff_layernorm_i))
//   logits = RMSNorm(h; final_layernorm) @ lm_head^T      (only for the requested rows)
#include "model/bamba.h"

#include <set>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace bamba {

BambaModel::BambaModel(ModelConfig config, BambaWeights weights, const LoadOptions& options)
    : Model(std::move(config), weights.bytes),
      weights_(std::move(weights)),
      rows_independent_(every_matrix_rows_independent(weights_)),
      options_(options) {}

void BambaModel::validate(const Batch& batch, const StateCache& cache) const {
  const ModelConfig& c = config_;
  const int64_t T = int64_t(batch.tokens.size());
  for (int64_t t = 0; t < T; ++t) {
    const int32_t id = batch.tokens[size_t(t)];
    if (id < 0 || id >= c.vocab_size) {
      fail("batch token ", t, ": id ", id, " is outside the vocabulary [0, ", c.vocab_size, ")");
    }
  }
  std::set<int> seen;
  int64_t next_begin = 0;
  int64_t new_blocks = 0;  // KV blocks the whole batch takes from the pool
  for (const BatchSequence& bs : batch.sequences) {
    if (bs.token_begin != next_begin || bs.token_end <= bs.token_begin || bs.token_end > T) {
      fail("batch sequence ", bs.seq, ": span [", bs.token_begin, ", ", bs.token_end,
           ") is not a non-empty span starting at ", next_begin, " within the ", T, " tokens");
    }
    next_begin = bs.token_end;
    if (!cache.is_active(bs.seq)) fail("batch sequence ", bs.seq, ": not an acquired state slot");
    if (!seen.insert(bs.seq).second) fail("batch sequence ", bs.seq, ": appears twice in one batch");
    const int64_t n = bs.token_end - bs.token_begin;
    if (cache.n_tokens(bs.seq) + n > c.max_position_embeddings) {
      fail("batch sequence ", bs.seq, ": positions up to ", cache.n_tokens(bs.seq) + n,
           " exceed max_position_embeddings (", c.max_position_embeddings, ")");
    }
    new_blocks += cache.blocks_for_positions(cache.n_tokens(bs.seq) + n) - int64_t(cache.block_table(bs.seq).size());
  }
  if (new_blocks > cache.free_blocks()) {
    fail("batch: its sequences need ", new_blocks, " more KV blocks, the KV pool has ", cache.free_blocks(), " free");
  }
  if (next_begin != T) fail("batch: the sequences cover ", next_begin, " of its ", T, " tokens");
  for (int64_t row : batch.logit_rows) {
    if (row < 0 || row >= T) fail("batch logit row ", row, " is outside the ", T, " tokens");
  }
}

void BambaModel::forward(const Batch& batch, StateCache& cache, float* logits, ThreadPool& pool) {
  validate(batch, cache);
  const ModelConfig& c = config_;
  const int64_t T = int64_t(batch.tokens.size()), H = c.hidden_size;
  if (T == 0) return;

  // Absolute positions continue from each sequence's consumed tokens (pitfall 13).
  int32_t* positions = scratch(positions_, T);  // [T]
  for (const BatchSequence& bs : batch.sequences) {
    const int64_t p0 = cache.n_tokens(bs.seq);
    for (int64_t t = bs.token_begin; t < bs.token_end; ++t) positions[t] = int32_t(p0 + t - bs.token_begin);
    cache.reserve(bs.seq, bs.token_end - bs.token_begin);
  }
  const ForwardContext ctx{c, batch, cache, positions, T, options_.math, pool, linear_observer_};
  float* h = scratch(hidden_, T * H);       // [T, H]
  float* xn = scratch(normed_, T * H);      // [T, H]
  float* out = scratch(block_out_, T * H);  // [T, H]
  const float eps = float(c.rms_norm_eps);

  // h = embed[ids]   "embed"
  kernels::embedding_rows(weights_.embed, batch.tokens.data(), T, h);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const LayerWeights& lw = weights_.layers[size_t(i)];
    // h = h + Mixer_i(RMSNorm(h; input_layernorm_i))
    kernels::rms_norm(h, T, H, lw.input_norm.data(), eps, xn);
    if (lw.kind == LayerKind::Attention) {
      attention_forward(ctx, i, lw.attention, xn, out, attention_scratch_);
    } else {
      mamba2_forward(ctx, i, lw.mamba, xn, out, mamba_scratch_);
    }
    kernels::add_inplace(h, out, T * H);
    // h = h + MLP_i(RMSNorm(h; pre_ff_layernorm_i))
    kernels::rms_norm(h, T, H, lw.pre_ff_norm.data(), eps, xn);
    mlp_forward(ctx, lw.mlp, xn, out, mlp_scratch_);
    kernels::add_inplace(h, out, T * H);
  }

  // logits = RMSNorm(h; final_layernorm) lm_head^T, for the requested rows only   "final_norm", "logits"
  const int64_t R = int64_t(batch.logit_rows.size());
  if (R > 0) {
    float* final_hidden = scratch(logit_hidden_, R * H);  // [R, H]
    for (int64_t r = 0; r < R; ++r) {
      const float* src = h + batch.logit_rows[size_t(r)] * H;
      std::copy(src, src + H, final_hidden + r * H);
    }
    kernels::rms_norm(final_hidden, R, H, weights_.final_norm.data(), eps, final_hidden);
    if (linear_observer_) linear_observer_->observe(weights_.lm_head, final_hidden, R, H);
    kernels::matmul(final_hidden, R, H, weights_.lm_head, logits, c.vocab_size, options_.math, pool);
  }
  for (const BatchSequence& bs : batch.sequences) cache.advance(bs.seq, bs.token_end - bs.token_begin);
}

std::string BambaModel::matrix_name(const kernels::Matrix& matrix) const {
  const auto it = weights_.matrix_names.find(matrix.data);
  return it == weights_.matrix_names.end() ? std::string() : it->second;
}

std::unique_ptr<Model> load_bamba(const std::filesystem::path& dir, const nlohmann::json& config_json,
                                  const LoadOptions& options) {
  ModelConfig config = parse_model_config(config_json, (dir / "config.json").string());
  BambaWeights weights = load_bamba_weights(config, io::TensorStore::open_dir(dir), dir);
  return std::make_unique<BambaModel>(std::move(config), std::move(weights), options);
}

}  // namespace bamba

// Memory planning and the Model-backed StepModel; see model_runner.h.
#include "runtime/model_runner.h"

#include <algorithm>

#include "base/error.h"

namespace bamba {

int64_t MemoryPlan::full_context_sequences() const {
  if (tokens_per_sequence <= 0) return 0;
  const int64_t blocks_per_sequence = (tokens_per_sequence + block_len - 1) / block_len;
  return std::min<int64_t>(max_seqs, kv_blocks / blocks_per_sequence);
}

std::string MemoryPlan::describe() const {
  constexpr double kMiB = 1024.0 * 1024.0;
  return str_cat(max_seqs, " state slots (", state_bytes / kMiB, " MiB) + ", kv_blocks,
                 " KV blocks of ", block_len, " positions (", kv_bytes / kMiB, " MiB): ",
                 kv_tokens(), " tokens in flight, ", full_context_sequences(),
                 " sequences at the full context of ", tokens_per_sequence, " tokens");
}

MemoryPlan plan_memory(const ModelConfig& config, int64_t memory_bytes, int max_seqs,
                       int64_t max_context, int64_t block_len, DType kv_dtype, DType state_dtype) {
  if (max_seqs < 1) fail("memory plan: max_seqs must be >= 1, found ", max_seqs);
  if (block_len < 1 || max_context < 1) fail("memory plan: block_len and context must be >= 1");
  MemoryPlan plan;
  plan.max_seqs = max_seqs;
  plan.block_len = block_len;
  plan.tokens_per_sequence = max_context;
  plan.state_bytes = int64_t(max_seqs) * config.state_bytes_per_sequence(state_dtype);
  const int64_t blocks_per_sequence = (max_context + block_len - 1) / block_len;
  const int64_t most_blocks = int64_t(max_seqs) * blocks_per_sequence;
  const StateCacheOptions options{.max_sequences = max_seqs, .kv_block_count = 0, .block_len = block_len,
                                  .kv_dtype = kv_dtype, .state_dtype = state_dtype};
  const int64_t bytes_per_block = StateCache::kv_bytes_per_block(config, options);
  if (bytes_per_block == 0) {
    // No attention layers: positions cost nothing, so the pool never limits admission.
    plan.kv_blocks = most_blocks;
    return plan;
  }
  if (plan.state_bytes > memory_bytes)
    fail("memory plan: ", max_seqs, " state slots need ", plan.state_bytes, " bytes, more than the ",
         memory_bytes, " bytes given (--memory); lower --max-seqs or raise --memory");
  plan.kv_blocks = std::min(most_blocks,
                            StateCache::blocks_for_bytes(config, options, memory_bytes - plan.state_bytes));
  if (plan.kv_blocks < blocks_per_sequence)
    fail("memory plan: ", memory_bytes, " bytes leave KV room for ", plan.kv_blocks * block_len,
         " positions, less than one context of ", max_context, " tokens; raise --memory or lower --ctx-size");
  plan.kv_bytes = plan.kv_blocks * bytes_per_block;
  return plan;
}

namespace {

// The padding sequence's slots and KV blocks: none for a model that is not padded.
int scratch_slots(const Model& model) { return model.rows_independent() ? 0 : 1; }

int64_t scratch_blocks(const MemoryPlan& plan, const Model& model) {
  if (model.config().n_attention_layers() == 0 || scratch_slots(model) == 0) return 0;
  return (ModelRunner::kScratchPositions + plan.block_len - 1) / plan.block_len;
}

}  // namespace

ModelRunner::ModelRunner(Model& model, const MemoryPlan& plan, DType kv_dtype, DType state_dtype,
                         ThreadPool& pool)
    : model_(model),
      cache_(model.config(),
             StateCacheOptions{.max_sequences = plan.max_seqs + scratch_slots(model),
                               .kv_block_count = model.config().n_attention_layers() > 0
                                                     ? plan.kv_blocks + scratch_blocks(plan, model)
                                                     : 0,
                               .block_len = plan.block_len,
                               .kv_dtype = kv_dtype,
                               .state_dtype = state_dtype}),
      pool_(pool),
      min_rows_(model.rows_independent() ? 0 : kMinRows) {
  // Taken first and kept: the engine's acquire_slot() can then hand out exactly max_seqs slots.
  if (scratch_slots(model) > 0) scratch_seq_ = *cache_.acquire();
}

std::optional<int> ModelRunner::acquire_slot() { return cache_.acquire(); }

int64_t ModelRunner::kv_blocks_in_use() const {
  const int64_t scratch = scratch_seq_ < 0 ? 0 : cache_.blocks_for_positions(cache_.n_tokens(scratch_seq_));
  return cache_.total_blocks() - cache_.free_blocks() - scratch;
}

void ModelRunner::forward(const Batch& batch, float* logits) {
  const int64_t n_tokens = int64_t(batch.tokens.size());
  const int64_t n_logits = int64_t(batch.logit_rows.size());
  const int64_t vocab = model_.config().vocab_size;
  const int64_t n_pad = std::max(min_rows_ - n_tokens, min_rows_ - n_logits);
  if (n_pad <= 0) return model_.forward(batch, cache_, logits, pool_);

  if (cache_.n_tokens(scratch_seq_) + n_pad > kScratchPositions) {  // restart: fresh state, no blocks
    cache_.release(scratch_seq_);
    scratch_seq_ = *cache_.acquire();
  }
  padded_.tokens = batch.tokens;
  padded_.sequences = batch.sequences;
  padded_.logit_rows = batch.logit_rows;
  padded_.tokens.resize(size_t(n_tokens + n_pad), 0);
  padded_.sequences.push_back({scratch_seq_, n_tokens, n_tokens + n_pad});
  for (int64_t t = n_tokens; t < n_tokens + n_pad; ++t) padded_.logit_rows.push_back(t);
  padded_logits_.resize(padded_.logit_rows.size() * size_t(vocab));
  model_.forward(padded_, cache_, padded_logits_.data(), pool_);
  // The real rows come first, in the caller's order.
  std::copy_n(padded_logits_.begin(), size_t(n_logits * vocab), logits);
}

}  // namespace bamba

// ModelRunner: the StepModel of a loaded Model — its StateCache (state slots + KV pool)
// sized by a MemoryPlan, and the thread pool its forward passes run on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "model/model.h"
#include "runtime/step_model.h"
#include "state/state_cache.h"

namespace bamba {

// How many sequences and tokens a memory budget holds: every slot's Mamba2 state is
// allocated up front, and the rest of the budget becomes KV blocks.
struct MemoryPlan {
  int max_seqs = 0;
  int64_t block_len = 16;
  int64_t kv_blocks = 0;              // blocks of block_len positions, all attention layers
  int64_t state_bytes = 0;            // max_seqs Mamba2 slots
  int64_t kv_bytes = 0;               // kv_blocks blocks
  int64_t tokens_per_sequence = 0;    // context each sequence may reach (max_context)
  [[nodiscard]] int64_t kv_tokens() const { return kv_blocks * block_len; }
  // Sequences that fit at once when each uses its whole context.
  [[nodiscard]] int64_t full_context_sequences() const;
  // One line for the server log.
  [[nodiscard]] std::string describe() const;
};

// Splits `memory_bytes` between `max_seqs` state slots (SSM states in state_dtype) and KV
// blocks (kv_dtype); the pool never holds more than max_seqs full contexts. A model without
// attention layers needs no KV memory. Error when the slots alone do not fit.
[[nodiscard]] MemoryPlan plan_memory(const ModelConfig& config, int64_t memory_bytes, int max_seqs,
                                     int64_t max_context, int64_t block_len, DType kv_dtype, DType state_dtype);

// Batch invariance: float-weight matmul kernels pick their algorithm by row count (small-row
// paths round and accumulate differently from the AMX tiles), so a sequence decoding alone
// would get other logits than the same sequence inside a crowd. Every forward of such a model
// is therefore padded to at least `kMinRows` (= kernels::kMinPackedRows) token rows and logit
// rows with a scratch sequence whose results are thrown away; each real row then takes the
// same arithmetic path whatever runs beside it. Models whose matmuls compute every row alike
// at any row count (Model::rows_independent: quantized weights) run unpadded.
class ModelRunner : public StepModel {
 public:
  static constexpr int64_t kMinRows = kernels::kMinPackedRows;
  // The scratch sequence's positions before it is restarted (bounds its KV blocks).
  static constexpr int64_t kScratchPositions = 4 * kMinRows;

  ModelRunner(Model& model, const MemoryPlan& plan, DType kv_dtype, DType state_dtype, ThreadPool& pool);

  [[nodiscard]] int64_t vocab_size() const override { return model_.config().vocab_size; }
  [[nodiscard]] std::optional<int> acquire_slot() override;
  void release_slot(int seq) override { cache_.release(seq); }
  void forward(const Batch& batch, float* logits) override;
  // Blocks held by real sequences (the scratch sequence's are not counted).
  [[nodiscard]] int64_t kv_blocks_in_use() const override;

 private:
  Model& model_;
  StateCache cache_;  // plan.max_seqs slots + the scratch slot; plan.kv_blocks + its blocks
  ThreadPool& pool_;
  int scratch_seq_ = -1;              // the padding sequence's slot; -1 when nothing is padded
  int64_t min_rows_;                  // kMinRows, or 0 (no padding) for a rows_independent model
  Batch padded_;                      // the batch plus the scratch chunk
  std::vector<float> padded_logits_;  // [padded_.logit_rows, vocab]
};

}  // namespace bamba

// StepModel: what the engine loop needs from a model and its per-sequence states — slots to
// hand out and a forward pass over a mixed batch. ModelRunner joins a loaded Model with its
// StateCache; tests drive the loop with a mock.
#pragma once

#include <cstdint>
#include <optional>

#include "model/batch.h"

namespace bamba {

class StepModel {
 public:
  virtual ~StepModel() = default;
  [[nodiscard]] virtual int64_t vocab_size() const = 0;
  // A free sequence slot with empty state, or nullopt.
  [[nodiscard]] virtual std::optional<int> acquire_slot() = 0;
  // Frees the slot and every KV block it holds.
  virtual void release_slot(int seq) = 0;
  // Runs the batch, advancing each sequence's state; logits: [batch.logit_rows.size(), vocab].
  virtual void forward(const Batch& batch, float* logits) = 0;
  // KV blocks in use, for metrics (0 for a model without attention layers or a mock).
  [[nodiscard]] virtual int64_t kv_blocks_in_use() const = 0;
};

}  // namespace bamba

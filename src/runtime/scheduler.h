// Scheduler: decides, once per engine step, which requests run and how many of their tokens.
// Two separate stages (vLLM v1, TRT-LLM capacity + micro-batch schedulers): *admission*
// moves waiting requests to running while a state slot and the KV blocks for their whole
// generation are free; the *budget* then gives every running request its next tokens —
// a prompt chunk or one decode token — up to `max_batch_tokens`. There are no prefill and
// decode phases: a request simply has known tokens not yet computed.
//
// Batch invariance: a request's prompt is always cut into the same chunks (`prefill_chunk`
// tokens, from position 0), whatever else runs beside it; a chunk that does not fit the
// remaining budget waits for the next step instead of being shortened; the budget always
// holds one chunk beside a decode token of every other request, so none waits for long. With a model whose
// per-sequence arithmetic does not depend on its batch neighbours, a request's tokens are
// then identical alone or in a crowd.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "runtime/request.h"

namespace bamba {

struct SchedulerOptions {
  int max_seqs = 8;                 // state slots: requests running at once
  int64_t max_batch_tokens = 512;   // tokens per step, all requests together
  int64_t prefill_chunk = 256;      // prompt tokens per chunk (+ max_seqs - 1 <= max_batch_tokens)
  int64_t kv_block_len = 16;        // positions per KV block
  int64_t kv_blocks = 0;            // blocks in the pool (positions of all attention layers)
  int64_t max_waiting = 256;        // queue length beyond which new requests are refused
};

// One request's share of a step: tokens [num_computed, num_computed + n_tokens).
struct ScheduledChunk {
  Request* request = nullptr;
  int64_t n_tokens = 0;
  bool wants_logits = false;  // the chunk ends at the last known token: sample the next
};

struct StepPlan {
  std::vector<Request*> admitted;     // moved from waiting to running in this step
  std::vector<ScheduledChunk> chunks; // in running order; may be empty
  [[nodiscard]] int64_t n_tokens() const;
};

class Scheduler {
 public:
  explicit Scheduler(const SchedulerOptions& options);  // throws bamba::Error on bad options

  // KV blocks a request reserves: its prompt plus its whole generation.
  [[nodiscard]] int64_t blocks_for(const Request& request) const;
  // Whether a request could ever be admitted (its reservation fits the empty pool).
  [[nodiscard]] bool fits_pool(const Request& request) const;

  // Queues a request; false when the queue is full (the caller refuses it).
  [[nodiscard]] bool enqueue(std::shared_ptr<Request> request);
  // Admission, then the token budget. Requests admitted here are in `running()` afterwards.
  [[nodiscard]] StepPlan schedule();
  // Removes a request (running or waiting) and returns its reservation; the caller frees
  // its state slot. Returns the removed request, or null when it was not here.
  std::shared_ptr<Request> remove(const Request* request);

  [[nodiscard]] const std::vector<std::shared_ptr<Request>>& running() const { return running_; }
  [[nodiscard]] const std::deque<std::shared_ptr<Request>>& waiting() const { return waiting_; }
  [[nodiscard]] int64_t reserved_blocks() const { return reserved_blocks_; }
  [[nodiscard]] const SchedulerOptions& options() const { return options_; }

 private:
  SchedulerOptions options_;
  std::deque<std::shared_ptr<Request>> waiting_;   // FCFS
  std::vector<std::shared_ptr<Request>> running_;  // admission order
  int64_t reserved_blocks_ = 0;
};

}  // namespace bamba

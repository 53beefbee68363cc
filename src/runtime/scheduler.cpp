// Admission (slots + KV reservation) and the per-step token budget; see scheduler.h.
#include "runtime/scheduler.h"

#include <algorithm>

#include "base/error.h"

namespace bamba {

int64_t StepPlan::n_tokens() const {
  int64_t n = 0;
  for (const ScheduledChunk& chunk : chunks) n += chunk.n_tokens;
  return n;
}

Scheduler::Scheduler(const SchedulerOptions& options) : options_(options) {
  if (options.max_seqs < 1) fail("scheduler: max_seqs must be >= 1, found ", options.max_seqs);
  // Every other running request decoding one token, plus one whole prompt chunk, must fit
  // a step; otherwise decoders could hold a prompt back for their whole generation.
  if (options.prefill_chunk < 1 || options.prefill_chunk + options.max_seqs - 1 > options.max_batch_tokens)
    fail("scheduler: prefill_chunk (", options.prefill_chunk, ") + max_seqs (", options.max_seqs,
         ") - 1 must not exceed max_batch_tokens (", options.max_batch_tokens, ")");
  if (options.kv_block_len < 1 || options.kv_blocks < 0)
    fail("scheduler: kv_block_len must be >= 1 and kv_blocks >= 0, found ", options.kv_block_len,
         " and ", options.kv_blocks);
  if (options.max_waiting < 0) fail("scheduler: max_waiting must be >= 0");
}

int64_t Scheduler::blocks_for(const Request& request) const {
  return (request.reserved_tokens + options_.kv_block_len - 1) / options_.kv_block_len;
}

bool Scheduler::fits_pool(const Request& request) const {
  return blocks_for(request) <= options_.kv_blocks;
}

bool Scheduler::enqueue(std::shared_ptr<Request> request) {
  if (int64_t(waiting_.size()) >= options_.max_waiting) return false;
  waiting_.push_back(std::move(request));
  return true;
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  // Admission: strictly first come, first served, so a large request is not starved by a
  // stream of small ones behind it.
  while (!waiting_.empty() && int(running_.size()) < options_.max_seqs) {
    const int64_t need = blocks_for(*waiting_.front());
    if (reserved_blocks_ + need > options_.kv_blocks) break;
    reserved_blocks_ += need;
    plan.admitted.push_back(waiting_.front().get());
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  // Budget: every running request in admission order gets its next chunk if it fits whole.
  int64_t budget = options_.max_batch_tokens;
  for (const std::shared_ptr<Request>& request : running_) {
    const int64_t pending = request->n_known() - request->num_computed;
    if (pending <= 0) continue;
    const int64_t n = std::min(pending, options_.prefill_chunk);
    if (n > budget) continue;
    budget -= n;
    plan.chunks.push_back({request.get(), n, n == pending});
  }
  return plan;
}

std::shared_ptr<Request> Scheduler::remove(const Request* request) {
  auto same = [request](const std::shared_ptr<Request>& r) { return r.get() == request; };
  if (auto it = std::find_if(running_.begin(), running_.end(), same); it != running_.end()) {
    std::shared_ptr<Request> removed = std::move(*it);
    running_.erase(it);
    reserved_blocks_ -= blocks_for(*removed);
    return removed;
  }
  if (auto it = std::find_if(waiting_.begin(), waiting_.end(), same); it != waiting_.end()) {
    std::shared_ptr<Request> removed = std::move(*it);
    waiting_.erase(it);
    return removed;
  }
  return nullptr;
}

}  // namespace bamba

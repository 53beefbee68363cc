// The engine step and its thread; see engine_loop.h.
#include "runtime/engine_loop.h"

#include <algorithm>
#include <exception>
#include <span>

#include "base/error.h"

namespace bamba {

EngineLoop::EngineLoop(StepModel& model, const EngineOptions& options)
    : model_(model), options_(options), scheduler_(options.scheduler) {
  snapshot_.slots_total = options.scheduler.max_seqs;
  snapshot_.kv_blocks_total = options.scheduler.kv_blocks;
}

EngineLoop::~EngineLoop() { shutdown(std::chrono::milliseconds(0)); }

void EngineLoop::start() {
  running_thread_ = true;
  thread_ = std::thread([this] { run(); });
}

Submission EngineLoop::submit(RequestParams params) {
  Submission result;
  auto refuse = [&result](SubmitError error, std::string message) {
    result.error = error;
    result.message = std::move(message);
    return result;
  };
  const int64_t vocab = model_.vocab_size();
  if (params.prompt.empty()) return refuse(SubmitError::InvalidRequest, "the prompt is empty");
  for (int32_t token : params.prompt) {
    if (token < 0 || token >= vocab)
      return refuse(SubmitError::InvalidRequest,
                    str_cat("prompt token id ", token, " is outside the vocabulary [0, ", vocab, ")"));
  }
  if (params.max_new_tokens < 1)
    return refuse(SubmitError::InvalidRequest, "max_tokens must be at least 1");
  if (params.top_logprobs < 0 || params.top_logprobs > 20)
    return refuse(SubmitError::InvalidRequest, "top_logprobs must be in [0, 20]");
  const int64_t n_prompt = int64_t(params.prompt.size());
  if (n_prompt + params.max_new_tokens > options_.max_context)
    return refuse(SubmitError::TooLarge,
                  str_cat("the prompt (", n_prompt, " tokens) plus max_tokens (", params.max_new_tokens,
                          ") exceeds the context length of ", options_.max_context, " tokens"));
  std::optional<Sampler> sampler;
  try {
    validate(params.sampling);
    sampler.emplace(params.sampling, vocab);
  } catch (const Error& e) {
    return refuse(SubmitError::InvalidRequest, e.what());
  }
  sampler->add_prompt(params.prompt);

  std::lock_guard lock(inbox_mutex_);
  if (!accepting_) return refuse(SubmitError::ShuttingDown, "the server is shutting down");
  auto request = std::make_shared<Request>(next_id_++, std::move(params));
  request->sampler = std::move(sampler);
  if (!scheduler_.fits_pool(*request))
    return refuse(SubmitError::TooLarge,
                  str_cat("the request needs ", request->reserved_tokens,
                          " tokens of KV cache; the pool holds ",
                          options_.scheduler.kv_blocks * options_.scheduler.kv_block_len));
  if (queued_ >= options_.scheduler.max_waiting)
    return refuse(SubmitError::QueueFull, "the request queue is full; retry later");
  ++queued_;
  result.stream = request->stream;
  inbox_.push_back(std::move(request));
  inbox_changed_.notify_one();
  return result;
}

void EngineLoop::shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(inbox_mutex_);
    accepting_ = false;
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  if (running_thread_) {
    while (std::chrono::steady_clock::now() < deadline) {
      const EngineSnapshot now = snapshot();
      bool inbox_empty;
      {
        std::lock_guard lock(inbox_mutex_);
        inbox_empty = inbox_.empty();
      }
      if (inbox_empty && now.running == 0 && now.waiting == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    {
      std::lock_guard lock(inbox_mutex_);
      stop_ = true;
    }
    inbox_changed_.notify_all();
    thread_.join();
    running_thread_ = false;
  } else {
    while (std::chrono::steady_clock::now() < deadline && step()) {
    }
  }
  // Whatever is left ends unfinished: its clients see the stream end with Shutdown.
  take_submissions();
  while (!scheduler_.waiting().empty()) finish(scheduler_.waiting().front().get(), EndReason::Shutdown);
  while (!scheduler_.running().empty()) finish(scheduler_.running().front().get(), EndReason::Shutdown);
  publish_snapshot();
}

void EngineLoop::run() {
  for (;;) {
    {
      std::unique_lock lock(inbox_mutex_);
      const bool has_work = !scheduler_.running().empty() || !scheduler_.waiting().empty();
      if (!has_work) inbox_changed_.wait(lock, [this] { return stop_ || !inbox_.empty(); });
      if (stop_) return;
    }
    // A step with nothing to compute (all waiting on memory) must not spin.
    if (!step()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool EngineLoop::step() {
  take_submissions();
  drop_cancelled();
  const StepPlan plan = scheduler_.schedule();
  admit(plan);
  {
    std::lock_guard lock(inbox_mutex_);
    queued_ = int64_t(inbox_.size() + scheduler_.waiting().size());
  }
  if (plan.chunks.empty()) {
    publish_snapshot();
    return false;
  }
  build_batch(plan);
  forward_and_sample(plan);
  publish_snapshot();
  return true;
}

void EngineLoop::take_submissions() {
  std::vector<std::shared_ptr<Request>> arrived;
  {
    std::lock_guard lock(inbox_mutex_);
    arrived.swap(inbox_);
  }
  // The queue limit was checked at submission; enqueue cannot refuse these.
  for (std::shared_ptr<Request>& request : arrived) {
    if (!scheduler_.enqueue(request)) finish(request.get(), EndReason::Error, "queue full");
  }
}

void EngineLoop::drop_cancelled() {
  std::vector<Request*> cancelled;
  for (const auto& request : scheduler_.running())
    if (request->stream->cancelled()) cancelled.push_back(request.get());
  for (const auto& request : scheduler_.waiting())
    if (request->stream->cancelled()) cancelled.push_back(request.get());
  for (Request* request : cancelled) finish(request, EndReason::Cancelled);
}

void EngineLoop::admit(const StepPlan& plan) {
  for (Request* request : plan.admitted) {
    const std::optional<int> slot = model_.acquire_slot();
    // Admission counts slots exactly as the state cache does: a miss is a bug.
    if (!slot) fail("engine: no free state slot for an admitted request");
    request->slot = *slot;
  }
}

void EngineLoop::build_batch(const StepPlan& plan) {
  batch_.tokens.clear();
  batch_.sequences.clear();
  batch_.logit_rows.clear();
  chunk_first_row_.clear();
  for (const ScheduledChunk& chunk : plan.chunks) {
    const Request& request = *chunk.request;
    const int64_t begin = int64_t(batch_.tokens.size());
    batch_.tokens.insert(batch_.tokens.end(), request.tokens.begin() + request.num_computed,
                         request.tokens.begin() + request.num_computed + chunk.n_tokens);
    batch_.sequences.push_back({request.slot, begin, begin + chunk.n_tokens});
    chunk_first_row_.push_back(batch_.logit_rows.size());
    if (request.params.prompt_logprobs) {
      // Every position whose next token is a prompt token: its logits score that token.
      const int64_t end = std::min(request.num_computed + chunk.n_tokens, request.n_prompt - 1);
      for (int64_t p = request.num_computed; p < end; ++p) batch_.logit_rows.push_back(begin + p - request.num_computed);
    }
    if (chunk.wants_logits) batch_.logit_rows.push_back(begin + chunk.n_tokens - 1);
  }
}

void EngineLoop::forward_and_sample(const StepPlan& plan) {
  const int64_t vocab = model_.vocab_size();
  logits_.resize(batch_.logit_rows.size() * size_t(vocab));
  try {
    model_.forward(batch_, logits_.data());
  } catch (const std::exception& e) {
    for (const ScheduledChunk& chunk : plan.chunks)
      finish(chunk.request, EndReason::Error, str_cat("forward pass failed: ", e.what()));
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  for (size_t c = 0; c < plan.chunks.size(); ++c) {
    const ScheduledChunk& chunk = plan.chunks[c];
    Request* request = chunk.request;
    const int64_t begin = request->num_computed;
    request->num_computed += chunk.n_tokens;
    size_t row = chunk_first_row_[c];
    if (request->params.prompt_logprobs) row = score_prompt_tokens(*request, begin, row);
    if (!chunk.wants_logits) continue;
    const std::span<const float> logits(logits_.data() + row * size_t(vocab), size_t(vocab));
    const RequestParams& params = request->params;
    SampledToken sampled = request->sampler->sample(logits, params.logprobs ? params.top_logprobs : 0);
    if (std::find(params.stop_tokens.begin(), params.stop_tokens.end(), sampled.token) !=
        params.stop_tokens.end()) {
      finish(request, EndReason::Stop);
      continue;
    }
    request->tokens.push_back(sampled.token);
    request->stream->push({std::move(sampled), now});
    if (request->n_generated() >= params.max_new_tokens || request->n_known() >= options_.max_context)
      finish(request, EndReason::Length);
  }
}

size_t EngineLoop::score_prompt_tokens(Request& request, int64_t begin, size_t row) {
  const size_t vocab = size_t(model_.vocab_size());
  const int n_top = request.params.logprobs ? request.params.top_logprobs : 0;
  const int64_t end = std::min(request.num_computed, request.n_prompt - 1);
  for (int64_t p = begin; p < end; ++p, ++row) {
    const std::span<const float> logits(logits_.data() + row * vocab, vocab);
    request.prompt_logprobs.push_back(score_token(logits, request.tokens[size_t(p + 1)], n_top));
  }
  // The chunk that completes the prompt hands the list over before its first token.
  if (begin < request.n_prompt && request.num_computed >= request.n_prompt)
    request.stream->set_prompt_logprobs(std::move(request.prompt_logprobs));
  return row;
}

void EngineLoop::finish(Request* request, EndReason reason, const std::string& error) {
  if (request->slot >= 0) model_.release_slot(request->slot);
  request->slot = -1;
  // Keep the request alive until its stream is told: remove() drops the scheduler's share.
  const std::shared_ptr<Request> removed = scheduler_.remove(request);
  request->stream->finish(reason, error);
}

void EngineLoop::publish_snapshot() {
  EngineSnapshot now;
  now.running = int64_t(scheduler_.running().size());
  now.waiting = int64_t(scheduler_.waiting().size());
  now.slots_in_use = now.running;
  now.slots_total = options_.scheduler.max_seqs;
  now.kv_blocks_reserved = scheduler_.reserved_blocks();
  now.kv_blocks_in_use = model_.kv_blocks_in_use();
  now.kv_blocks_total = options_.scheduler.kv_blocks;
  std::lock_guard lock(snapshot_mutex_);
  now.steps = snapshot_.steps + 1;
  snapshot_ = now;
}

EngineSnapshot EngineLoop::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

}  // namespace bamba

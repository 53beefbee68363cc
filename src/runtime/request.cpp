// RequestStream hand-off and Request construction; see request.h.
#include "runtime/request.h"

#include <utility>

namespace bamba {

const char* end_reason_name(EndReason reason) {
  switch (reason) {
    case EndReason::None: return "none";
    case EndReason::Stop: return "stop";
    case EndReason::Length: return "length";
    case EndReason::Cancelled: return "cancelled";
    case EndReason::Shutdown: return "shutdown";
    case EndReason::Error: return "error";
  }
  return "?";
}

void RequestStream::push(TokenEvent event) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(event));
  }
  changed_.notify_all();
}

void RequestStream::finish(EndReason reason, std::string error) {
  {
    std::lock_guard lock(mutex_);
    if (reason_ != EndReason::None) return;
    reason_ = reason;
    error_ = std::move(error);
  }
  changed_.notify_all();
}

void RequestStream::set_prompt_logprobs(std::vector<SampledToken> logprobs) {
  std::lock_guard lock(mutex_);
  prompt_logprobs_ = std::move(logprobs);
}

std::optional<std::vector<SampledToken>> RequestStream::take_prompt_logprobs() {
  std::lock_guard lock(mutex_);
  return std::exchange(prompt_logprobs_, std::nullopt);
}

bool RequestStream::wait(std::vector<TokenEvent>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout,
                    [this] { return !pending_.empty() || reason_ != EndReason::None; });
  for (TokenEvent& event : pending_) out.push_back(std::move(event));
  pending_.clear();
  return reason_ != EndReason::None;
}

void RequestStream::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
}

bool RequestStream::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

EndReason RequestStream::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

std::string RequestStream::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

Request::Request(uint64_t request_id, RequestParams request_params)
    : id(request_id), params(std::move(request_params)) {
  tokens = params.prompt;
  n_prompt = int64_t(tokens.size());
  reserved_tokens = n_prompt + params.max_new_tokens;
}

}  // namespace bamba

// Request: one generation as the engine loop sees it — token ids known so far (prompt, then
// generated), how many of them the model has consumed (`num_computed`), its limits, and the
// RequestStream through which tokens travel from the engine thread to the client's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/sampler.h"

namespace bamba {

// Cancelled: by its client (gone, or a stop string seen); Shutdown: the engine stopped first.
enum class EndReason : uint8_t { None, Stop, Length, Cancelled, Shutdown, Error };

// How a request ended; "stop", "length", ...: the OpenAI spelling where one exists.
[[nodiscard]] const char* end_reason_name(EndReason reason);

// A sampled token and when the engine produced it (for latency metrics).
struct TokenEvent {
  SampledToken sampled;
  std::chrono::steady_clock::time_point at;
};

// What a client asks the engine for, in tokens.
struct RequestParams {
  std::vector<int32_t> prompt;       // [n_prompt], at least one token
  int64_t max_new_tokens = 16;       // generation stops with Length after this many
  SamplingParams sampling;
  std::vector<int32_t> stop_tokens;  // end the generation with Stop (EOS ids); not emitted
  bool logprobs = false;             // report the log-probability of every sampled token
  int top_logprobs = 0;              // and of this many most likely alternatives (0..20)
  bool prompt_logprobs = false;      // and of every prompt token after the first (echo), with
                                     // top_logprobs alternatives when `logprobs`
};

// Thread-safe hand-off of tokens from the engine thread (producer) to one client (consumer).
class RequestStream {
 public:
  // Engine side.
  void push(TokenEvent event);
  void finish(EndReason reason, std::string error = {});
  // The prompt's log-probabilities ([n_prompt - 1], for tokens 1..n_prompt-1), set once
  // before the first token is pushed: a client that has seen a token or the end finds them.
  void set_prompt_logprobs(std::vector<SampledToken> logprobs);

  // Client side: waits up to `timeout` for news; moves new tokens into `out` (appending) and
  // returns true once the stream has finished (`reason()` is then set).
  bool wait(std::vector<TokenEvent>& out, std::chrono::milliseconds timeout);
  // Moves out the prompt's log-probabilities once the engine has set them.
  [[nodiscard]] std::optional<std::vector<SampledToken>> take_prompt_logprobs();
  // Asks the engine to stop this request at its next step (client gone, stop string seen).
  void cancel();

  [[nodiscard]] bool cancelled() const;
  [[nodiscard]] EndReason reason() const;
  [[nodiscard]] std::string error() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<TokenEvent> pending_;
  std::optional<std::vector<SampledToken>> prompt_logprobs_;
  EndReason reason_ = EndReason::None;
  std::string error_;
  bool cancelled_ = false;
};

// The engine's record of one request. Only the engine thread touches the fields below
// `stream` once the request is submitted.
struct Request {
  uint64_t id = 0;
  RequestParams params;
  std::shared_ptr<RequestStream> stream = std::make_shared<RequestStream>();

  std::vector<int32_t> tokens;  // [n_known]: prompt, then every generated token
  int64_t n_prompt = 0;
  int64_t num_computed = 0;     // tokens of `tokens` whose effect is in the sequence state
  int64_t reserved_tokens = 0;  // KV positions reserved at admission: n_prompt + max_new_tokens
  int slot = -1;                // state-cache sequence id while running
  std::vector<SampledToken> prompt_logprobs;  // scored so far, while params.prompt_logprobs
  std::optional<Sampler> sampler;  // made at submission, when the vocabulary is known

  Request(uint64_t request_id, RequestParams request_params);
  [[nodiscard]] int64_t n_known() const { return int64_t(tokens.size()); }
  [[nodiscard]] int64_t n_generated() const { return n_known() - n_prompt; }
};

}  // namespace bamba

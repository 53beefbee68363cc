// CompletionService: the OpenAI semantics of /v1/completions and /v1/chat/completions
// between the HTTP transport and the engine — chat template and tokenization, one engine
// request per choice, incremental detokenization with stop strings, and the response and
// stream-chunk JSON. Knows requests and text, not tensors or sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jinja/chat_template.h"
#include "runtime/engine_loop.h"
#include "runtime/stop_strings.h"
#include "server/metrics.h"
#include "server/openai_request.h"
#include "tokenizer/tokenizer.h"

namespace bamba::server {

struct ServiceOptions {
  std::string model_name;             // the `model` clients must name
  std::vector<int32_t> eos_ids;       // end a choice with finish_reason "stop"
  SamplingParams default_sampling;    // generation_config.json's, for fields a client omits
  int64_t default_max_tokens = 16;    // completions without max_tokens (OpenAI's default)
};

class CompletionJob;

class CompletionService {
 public:
  // `chat_template` may be null: chat requests are then refused with a 400.
  CompletionService(EngineLoop& engine, const Tokenizer& tokenizer, const ChatTemplate* chat_template,
                    Metrics& metrics, ServiceOptions options);

  // Parses, renders, tokenizes and submits every choice; ApiError when the request is bad or
  // the engine refuses it.
  [[nodiscard]] std::unique_ptr<CompletionJob> start(const nlohmann::json& body, Endpoint endpoint);

  [[nodiscard]] const ServiceOptions& options() const { return options_; }

 private:
  friend class CompletionJob;
  [[nodiscard]] std::vector<int32_t> render_chat(const CompletionRequest& request) const;

  EngineLoop& engine_;
  const Tokenizer& tokenizer_;
  const ChatTemplate* chat_template_;
  Metrics& metrics_;
  ServiceOptions options_;
};

// One HTTP request's choices in flight. Destroying it cancels whatever still runs.
class CompletionJob {
 public:
  ~CompletionJob();
  // Waits for every choice and returns the response object; nullopt when `client_connected`
  // (asked while waiting) turns false, every choice then cancelled. ApiError when a choice
  // fails or the server shuts down before it ends.
  [[nodiscard]] std::optional<nlohmann::json> run_to_end(const std::function<bool()>& client_connected);
  // Streams Server-Sent Events through `write` (false: the client is gone, so every choice
  // is cancelled) ending with `data: [DONE]`; a failure (or shutdown) ends the stream with an
  // error event instead.
  void stream(const std::function<bool(const std::string&)>& write);
  [[nodiscard]] bool streaming() const { return request_.stream; }

 private:
  friend class CompletionService;
  struct Choice {
    int index = 0;
    size_t prompt_index = 0;
    std::shared_ptr<RequestStream> stream;
    std::optional<std::string> echo;  // the prompt text, until it leads the choice's text
    std::optional<StreamDecoder> decoder;
    std::optional<StopStringMatcher> stop;
    int64_t n_tokens = 0;
    std::string text;                 // non-streaming: the whole completion
    nlohmann::json logprobs;          // entries of this chunk (streaming) or all (non-streaming)
    std::optional<std::string> finish_reason;
    bool sent_role = false;           // chat streaming: the first chunk names the role
    std::optional<std::chrono::steady_clock::time_point> last_token_at;
  };
  CompletionJob(const CompletionService& service, CompletionRequest request,
                std::vector<std::vector<int32_t>> prompt_ids, std::vector<std::string> prompt_texts);

  // Moves new tokens of `choice` into its text and logprobs, after the echoed prompt (which
  // waits for the prompt's logprobs when those are asked for); returns the new text.
  std::string take_events(Choice& choice, std::vector<TokenEvent>& events);
  // The echoed prompt's logprobs entries: null for its first token, then `scored`.
  void add_prompt_logprobs(Choice& choice, const std::vector<SampledToken>& scored);
  // The text still held back once the choice's stream has finished.
  std::string finish_choice(Choice& choice);
  void add_logprob(Choice& choice, const SampledToken& sampled, size_t text_offset);
  [[nodiscard]] std::string token_text(int32_t id) const;
  [[nodiscard]] nlohmann::json usage() const;
  [[nodiscard]] nlohmann::json chunk(nlohmann::json choices) const;
  [[nodiscard]] nlohmann::json stream_choice(Choice& choice, const std::string& text, bool final) const;
  void record_metrics();

  const CompletionService& service_;
  CompletionRequest request_;
  std::vector<std::vector<int32_t>> prompt_ids_;
  std::vector<std::string> prompt_texts_;  // for echo
  std::vector<Choice> choices_;
  std::string id_;
  int64_t created_ = 0;
  std::chrono::steady_clock::time_point started_at_;
  bool metrics_recorded_ = false;
};

}  // namespace bamba::server

// The OpenAI request bodies of /v1/completions and /v1/chat/completions, parsed and
// range-checked into one typed struct. Every problem is an ApiError (400) naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/sampler.h"

namespace bamba::server {

enum class Endpoint { Completions, ChatCompletions };

// One prompt of a completions request: text, or token ids given by the client.
struct PromptInput {
  std::optional<std::string> text;
  std::vector<int32_t> ids;  // when `text` is empty
};

struct CompletionRequest {
  Endpoint endpoint = Endpoint::Completions;
  std::string model;
  std::vector<PromptInput> prompts;  // completions: one or more
  nlohmann::json messages;           // chat: [{role, content}], content flattened to a string
  nlohmann::json tools;              // chat: passed to the template; null when absent
  std::optional<int64_t> max_tokens;  // none: completions 16, chat the rest of the context
  SamplingParams sampling;
  std::vector<std::string> stop;
  int n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  int top_logprobs = 0;
  bool echo = false;  // completions: the prompt text precedes the completion
  bool ignore_eos = false;  // extension (as vLLM): generate past EOS, e.g. for benchmarks
};

// Parses `body`; fields it does not set keep the values of `defaults` (the model's
// generation_config.json sampling).
[[nodiscard]] CompletionRequest parse_completion_request(const nlohmann::json& body, Endpoint endpoint,
                                                         const SamplingParams& defaults);

}  // namespace bamba::server

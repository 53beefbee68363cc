// Generation of one or several sequences together: the prompts are prefilled (packed into
// as few forward calls as the token budget allows), then every live sequence advances by one
// token per forward call until it meets an EOS id, a stop string or its token limit.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/dtype.h"
#include "base/thread_pool.h"
#include "model/model.h"
#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace bamba {

struct GenerationRequest {
  std::vector<int32_t> prompt;     // [n_prompt], at least one token
  SamplingParams sampling;
  int64_t max_new_tokens = 256;    // >= 1; also capped by the model's max positions
  std::vector<std::string> stop;   // stop strings, matched on the detokenized text
  bool ignore_eos = false;         // keep going past EOS ids
  int n_top_logprobs = -1;         // < 0: no logprobs; 0: the chosen token's; n: and the top n
};

enum class FinishReason { Stop, Length };

// "stop" or "length", as OpenAI spells them.
[[nodiscard]] std::string_view finish_reason_name(FinishReason reason);

struct GenerationResult {
  std::vector<int32_t> tokens;  // generated ids, including an EOS id that ended the sequence
  std::string text;             // their text without EOS, cut before a stop string; "" without tokenizer
  FinishReason finish_reason = FinishReason::Length;
  std::vector<SampledToken> logprobs;  // [tokens] when n_top_logprobs >= 0
};

struct GenerationTimings {
  int64_t prefill_tokens = 0;   // prompt tokens fed
  double prefill_seconds = 0;   // prompt forwards and the first sampling
  int64_t decode_tokens = 0;    // tokens fed one per sequence per step
  double decode_seconds = 0;

  [[nodiscard]] double prefill_tokens_per_s() const;
  [[nodiscard]] double decode_tokens_per_s() const;
};

// Receives text as it becomes final: (index of the request, new text).
using TextCallback = std::function<void(size_t request, std::string_view delta)>;

struct GeneratorOptions {
  DType kv_dtype = DType::BF16;      // KV cache precision: F32, BF16 or I8
  DType state_dtype = DType::F32;    // SSM state precision: F32 or BF16 (lossy)
  int64_t max_batch_tokens = 2048;   // prompt tokens per forward call (bounds activation memory)
};

class Generator {
 public:
  // `tokenizer` may be null: then results carry no text and stop strings are refused.
  // `eos_ids` end a sequence (see ModelFolder::eos_ids).
  Generator(Model& model, const Tokenizer* tokenizer, std::vector<int32_t> eos_ids, ThreadPool& pool,
            GeneratorOptions options = {});

  // Runs all requests to completion; results are in request order. Bad requests (empty
  // prompt, id outside the vocabulary, prompt beyond the model's positions, bad sampling
  // parameters) are an Error before any work starts.
  [[nodiscard]] std::vector<GenerationResult> generate(std::span<const GenerationRequest> requests,
                                                       const TextCallback& on_text = {},
                                                       GenerationTimings* timings = nullptr);

 private:
  Model& model_;
  const Tokenizer* tokenizer_;
  std::vector<int32_t> eos_ids_;
  ThreadPool& pool_;
  GeneratorOptions options_;
};

}  // namespace bamba

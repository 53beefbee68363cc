// Turns one row of logits into the next token of one sequence: penalties, temperature,
// top-k / top-p / min-p filtering and a seeded draw, plus the log-probabilities the server
// reports. Each sequence owns a Sampler, so its random stream depends only on its seed.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace bamba {

struct SamplingParams {
  float temperature = 1.0f;         // 0: greedy (argmax after penalties)
  int64_t top_k = 0;                // keep the k most likely tokens; 0: all
  float top_p = 1.0f;               // keep the smallest top set whose mass reaches top_p
  float min_p = 0.0f;               // drop tokens with p < min_p * p_max
  float repetition_penalty = 1.0f;  // HF: logit / r if > 0 else logit * r, tokens of prompt + output
  float presence_penalty = 0.0f;    // OpenAI: logit -= presence if the token was generated
  float frequency_penalty = 0.0f;   // OpenAI: logit -= frequency * times it was generated
  std::optional<uint64_t> seed = std::nullopt;  // none: a seed from std::random_device
};

// Rejects values outside the ranges above, naming the field.
void validate(const SamplingParams& params);

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0.0f;  // log-softmax of the raw model logits (before penalties and filters)
};

struct SampledToken {
  int32_t token = -1;
  float logprob = 0.0f;                   // of `token`, same convention as TokenLogprob
  std::vector<TokenLogprob> top_logprobs;  // the n most likely tokens, most likely first
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int64_t vocab_size);

  // Tokens the repetition penalty covers before any output exists.
  void add_prompt(std::span<const int32_t> prompt);

  // Chooses a token from logits [vocab_size] and records it as generated. With
  // `n_top_logprobs` > 0 also returns that many most likely tokens.
  [[nodiscard]] SampledToken sample(std::span<const float> logits, int n_top_logprobs = 0);

  [[nodiscard]] const SamplingParams& params() const { return params_; }

 private:
  // Adds the penalties of the tokens seen so far to `scores` (a copy of the logits).
  void apply_penalties(std::vector<float>& scores) const;
  // A uniform double in [0, 1) from the top 53 bits of the engine: the same on every
  // platform, unlike std::uniform_real_distribution.
  [[nodiscard]] double uniform();
  // Draws from softmax(scores / temperature) after the filters; scales `scores` in place.
  [[nodiscard]] int32_t draw(std::vector<float>& scores);

  SamplingParams params_;
  int64_t vocab_size_;
  std::mt19937_64 rng_;
  std::vector<uint8_t> in_context_;                 // [vocab_size] seen in prompt or output
  std::unordered_map<int32_t, int32_t> generated_;  // token -> times generated
};

// log-softmax of `logits` at the `n` largest entries, most likely first (ties: lower id).
[[nodiscard]] std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int n);

// A token that was given rather than drawn (a prompt token), with its log-probability under
// `logits` and the `n_top` most likely tokens, in the convention of Sampler::sample().
[[nodiscard]] SampledToken score_token(std::span<const float> logits, int32_t token, int n_top);

}  // namespace bamba

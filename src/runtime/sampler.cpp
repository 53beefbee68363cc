// Sampling of one token from one logits row; see sampler.h. The filters run in the order
// of Hugging Face's logits warpers (temperature, top-k, top-p, min-p) so that a seed and a
// set of parameters mean the same distribution as there.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/error.h"

namespace bamba {
namespace {

// Orders candidates most likely first; equal scores by lower id, so results never depend on
// the sort algorithm.
struct MoreLikely {
  const float* scores;
  bool operator()(int32_t a, int32_t b) const {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  }
};

// max and log(sum(exp(x - max))) of a row; fails on NaN or a row without a finite entry.
struct LogSumExp {
  float max = 0.0f;
  double log_sum = 0.0;
};

LogSumExp log_sum_exp(std::span<const float> x) {
  float max = -std::numeric_limits<float>::infinity();
  for (float v : x) {
    if (std::isnan(v)) fail("sampler: logits contain NaN");
    max = std::max(max, v);
  }
  if (!std::isfinite(max)) fail("sampler: logits have no finite entry (max is ", max, ")");
  double sum = 0.0;
  for (float v : x) sum += std::exp(v - max);  // float exp: this runs over the whole vocabulary
  return {max, std::log(sum)};
}

int32_t argmax(std::span<const float> x) {
  // The first maximum: ties go to the lower id.
  return int32_t(std::max_element(x.begin(), x.end()) - x.begin());
}

}  // namespace

void validate(const SamplingParams& p) {
  auto check = [](bool ok, const char* field, float value, const char* expected) {
    if (!ok) fail("sampling parameter ", field, " = ", value, ": expected ", expected);
  };
  check(std::isfinite(p.temperature) && p.temperature >= 0.0f, "temperature", p.temperature, ">= 0");
  check(p.top_k >= 0, "top_k", float(p.top_k), ">= 0 (0 disables it)");
  check(p.top_p > 0.0f && p.top_p <= 1.0f, "top_p", p.top_p, "in (0, 1]");
  check(p.min_p >= 0.0f && p.min_p <= 1.0f, "min_p", p.min_p, "in [0, 1]");
  check(std::isfinite(p.repetition_penalty) && p.repetition_penalty > 0.0f, "repetition_penalty",
        p.repetition_penalty, "> 0");
  check(std::isfinite(p.presence_penalty), "presence_penalty", p.presence_penalty, "a finite number");
  check(std::isfinite(p.frequency_penalty), "frequency_penalty", p.frequency_penalty,
        "a finite number");
}

Sampler::Sampler(const SamplingParams& params, int64_t vocab_size)
    : params_(params), vocab_size_(vocab_size), in_context_(size_t(vocab_size), 0) {
  validate(params);
  if (vocab_size <= 0) fail("sampler: vocab_size must be positive, got ", vocab_size);
  rng_.seed(params.seed ? *params.seed : (uint64_t(std::random_device{}()) << 32 | std::random_device{}()));
}

void Sampler::add_prompt(std::span<const int32_t> prompt) {
  for (int32_t t : prompt) {
    if (t >= 0 && t < vocab_size_) in_context_[size_t(t)] = 1;
  }
}

void Sampler::apply_penalties(std::vector<float>& scores) const {
  const float r = params_.repetition_penalty;
  if (r != 1.0f) {
    for (int64_t t = 0; t < vocab_size_; ++t) {
      if (!in_context_[size_t(t)]) continue;
      float& s = scores[size_t(t)];
      s = s > 0.0f ? s / r : s * r;
    }
  }
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) {
    for (const auto& [token, count] : generated_) {
      scores[size_t(token)] -= params_.presence_penalty + params_.frequency_penalty * float(count);
    }
  }
}

double Sampler::uniform() { return double(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::draw(std::vector<float>& scores) {
  const float inv_temperature = 1.0f / params_.temperature;
  for (float& s : scores) s *= inv_temperature;
  const MoreLikely more_likely{scores.data()};

  // Candidates: every token, or the top_k most likely (unordered).
  std::vector<int32_t> candidates(scores.size());
  std::iota(candidates.begin(), candidates.end(), 0);
  if (params_.top_k > 0 && size_t(params_.top_k) < candidates.size()) {
    std::nth_element(candidates.begin(), candidates.begin() + params_.top_k - 1, candidates.end(),
                     more_likely);
    candidates.resize(size_t(params_.top_k));
  }

  // Softmax weights relative to the most likely candidate (weight 1).
  float max_score = -std::numeric_limits<float>::infinity();
  for (int32_t t : candidates) max_score = std::max(max_score, scores[size_t(t)]);
  std::vector<float> weights(scores.size(), 0.0f);  // [vocab], candidates only
  double total = 0.0;
  for (int32_t t : candidates) total += weights[size_t(t)] = std::exp(scores[size_t(t)] - max_score);
  auto weight = [&](int32_t t) { return weights[size_t(t)]; };

  // top-p: the smallest most-likely-first prefix whose mass reaches top_p. Sorting the top m
  // and growing m until the prefix is found avoids sorting the whole vocabulary.
  if (params_.top_p < 1.0f) {
    const double target = double(params_.top_p) * total;
    for (size_t m = std::min<size_t>(256, candidates.size());; m = std::min(m * 4, candidates.size())) {
      const auto mid = candidates.begin() + ptrdiff_t(m);
      std::nth_element(candidates.begin(), mid, candidates.end(), more_likely);
      std::sort(candidates.begin(), mid, more_likely);
      double mass = 0.0;
      size_t keep = 0;
      while (keep < m && mass < target) mass += weight(candidates[keep++]);
      if (mass >= target || m == candidates.size()) {
        candidates.resize(std::max<size_t>(keep, 1));
        break;
      }
    }
  }

  // min-p: drop tokens whose probability is below min_p times the largest one.
  if (params_.min_p > 0.0f) {
    std::erase_if(candidates, [&](int32_t t) { return weight(t) < double(params_.min_p); });
  }

  // Inverse-CDF draw over the kept candidates, in their (deterministic) order.
  double kept = 0.0;
  for (int32_t t : candidates) kept += weight(t);
  const double u = uniform() * kept;
  double cumulative = 0.0;
  for (int32_t t : candidates) {
    cumulative += weight(t);
    if (u < cumulative) return t;
  }
  return candidates.back();  // u rounded up to the total
}

SampledToken Sampler::sample(std::span<const float> logits, int n_top_logprobs) {
  if (int64_t(logits.size()) != vocab_size_) {
    fail("sampler: logits row has ", logits.size(), " entries, expected vocab_size ", vocab_size_);
  }
  const LogSumExp lse = log_sum_exp(logits);

  std::vector<float> scores(logits.begin(), logits.end());  // [vocab]
  apply_penalties(scores);
  SampledToken out;
  out.token = params_.temperature == 0.0f ? argmax(scores) : draw(scores);
  out.logprob = float(double(logits[size_t(out.token)]) - lse.max - lse.log_sum);
  if (n_top_logprobs > 0) out.top_logprobs = top_logprobs(logits, n_top_logprobs);

  in_context_[size_t(out.token)] = 1;
  ++generated_[out.token];
  return out;
}

std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int n) {
  const LogSumExp lse = log_sum_exp(logits);
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  const size_t k = std::min(size_t(std::max(n, 0)), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + ptrdiff_t(k), ids.end(), MoreLikely{logits.data()});
  std::vector<TokenLogprob> out(k);
  for (size_t i = 0; i < k; ++i) {
    out[i] = {ids[i], float(double(logits[size_t(ids[i])]) - lse.max - lse.log_sum)};
  }
  return out;
}

SampledToken score_token(std::span<const float> logits, int32_t token, int n_top) {
  if (token < 0 || size_t(token) >= logits.size())
    fail("score_token: token ", token, " is outside the logits row of ", logits.size(), " entries");
  const LogSumExp lse = log_sum_exp(logits);
  SampledToken out;
  out.token = token;
  out.logprob = float(double(logits[size_t(token)]) - lse.max - lse.log_sum);
  if (n_top > 0) out.top_logprobs = top_logprobs(logits, n_top);
  return out;
}

}  // namespace bamba

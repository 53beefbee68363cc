// Prefill-then-decode generation of a set of requests; see generator.h.
#include "runtime/generator.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "base/error.h"
#include "runtime/stop_strings.h"
#include "state/state_cache.h"

namespace bamba {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One request in flight: its state slot, sampler, and the token -> text -> stop pipeline.
class Sequence {
 public:
  Sequence(size_t index, const GenerationRequest& request, int64_t max_new_tokens, int slot,
           int64_t vocab_size, const Tokenizer* tokenizer)
      : index_(index), request_(request), max_new_tokens_(max_new_tokens), slot_(slot),
        sampler_(request.sampling, vocab_size), stops_(request.stop) {
    sampler_.add_prompt(request.prompt);
    // Special tokens other than EOS stay out of the text, as in HF's decode(skip_special_tokens=True).
    if (tokenizer) decoder_.emplace(*tokenizer, /*skip_special_tokens=*/true);
  }

  [[nodiscard]] int slot() const { return slot_; }
  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] int64_t prompt_fed() const { return prompt_fed_; }
  void feed_prompt(int64_t n) { prompt_fed_ += n; }
  [[nodiscard]] int32_t last_token() const { return result_.tokens.back(); }
  [[nodiscard]] GenerationResult take_result() { return std::move(result_); }

  // Samples the next token from `logits` and runs it through EOS, text and stop checks.
  void add_token(std::span<const float> logits, const std::vector<int32_t>& eos_ids,
                 const TextCallback& on_text) {
    const SampledToken sampled = sampler_.sample(logits, std::max(request_.n_top_logprobs, 0));
    result_.tokens.push_back(sampled.token);
    if (request_.n_top_logprobs >= 0) result_.logprobs.push_back(sampled);

    const bool eos = !request_.ignore_eos &&
                     std::find(eos_ids.begin(), eos_ids.end(), sampled.token) != eos_ids.end();
    if (eos) return finish(FinishReason::Stop, on_text);
    if (decoder_ && emit(stops_.push(decoder_->push(sampled.token)), on_text)) {
      return finish(FinishReason::Stop, on_text);
    }
    if (int64_t(result_.tokens.size()) >= max_new_tokens_) finish(FinishReason::Length, on_text);
  }

 private:
  // Appends a piece of final text; true when it ended at a stop string.
  bool emit(const StopStringMatcher::Piece& piece, const TextCallback& on_text) {
    if (!piece.text.empty()) {
      result_.text += piece.text;
      if (on_text) on_text(index_, piece.text);
    }
    return piece.stopped;
  }

  // Releases the text still held back (an unfinished character, a possible stop prefix).
  void finish(FinishReason reason, const TextCallback& on_text) {
    finished_ = true;
    result_.finish_reason = reason;
    if (!decoder_) return;
    if (emit(stops_.push(decoder_->flush()), on_text)) {
      result_.finish_reason = FinishReason::Stop;
      return;
    }
    emit({stops_.flush(), false}, on_text);
  }

  size_t index_;
  const GenerationRequest& request_;
  int64_t max_new_tokens_;
  int slot_;
  Sampler sampler_;
  std::optional<StreamDecoder> decoder_;
  StopStringMatcher stops_;
  GenerationResult result_;
  int64_t prompt_fed_ = 0;
  bool finished_ = false;
};

void validate_request(const GenerationRequest& r, size_t index, const ModelConfig& config,
                      const Tokenizer* tokenizer) {
  if (r.prompt.empty()) fail("request ", index, ": the prompt is empty");
  for (size_t i = 0; i < r.prompt.size(); ++i) {
    if (r.prompt[i] < 0 || r.prompt[i] >= config.vocab_size) {
      fail("request ", index, ": prompt token ", r.prompt[i], " at index ", i,
           " is outside the vocabulary [0, ", config.vocab_size, ")");
    }
  }
  if (int64_t(r.prompt.size()) >= config.max_position_embeddings) {
    fail("request ", index, ": the prompt has ", r.prompt.size(), " tokens; the model has ",
         config.max_position_embeddings, " positions (max_position_embeddings), leaving none to generate");
  }
  if (r.max_new_tokens < 1) fail("request ", index, ": max_new_tokens is ", r.max_new_tokens, ", expected >= 1");
  if (!r.stop.empty() && tokenizer == nullptr) {
    fail("request ", index, ": stop strings need a tokenizer, and the model has none");
  }
  validate(r.sampling);
}

}  // namespace

std::string_view finish_reason_name(FinishReason reason) {
  return reason == FinishReason::Stop ? "stop" : "length";
}

double GenerationTimings::prefill_tokens_per_s() const {
  return prefill_seconds > 0 ? double(prefill_tokens) / prefill_seconds : 0.0;
}

double GenerationTimings::decode_tokens_per_s() const {
  return decode_seconds > 0 ? double(decode_tokens) / decode_seconds : 0.0;
}

Generator::Generator(Model& model, const Tokenizer* tokenizer, std::vector<int32_t> eos_ids, ThreadPool& pool,
                     GeneratorOptions options)
    : model_(model), tokenizer_(tokenizer), eos_ids_(std::move(eos_ids)), pool_(pool), options_(options) {
  if (options_.max_batch_tokens < 1) fail("generator: max_batch_tokens must be >= 1");
}

std::vector<GenerationResult> Generator::generate(std::span<const GenerationRequest> requests,
                                                  const TextCallback& on_text, GenerationTimings* timings) {
  const ModelConfig& config = model_.config();
  const int64_t vocab = config.vocab_size;
  if (requests.empty()) return {};
  for (size_t i = 0; i < requests.size(); ++i) validate_request(requests[i], i, config, tokenizer_);

  // Every sequence gets its slot and the KV blocks for its whole length up front, so a
  // started generation never runs out of memory half way.
  StateCacheOptions cache_options;
  cache_options.max_sequences = int(requests.size());
  cache_options.kv_dtype = options_.kv_dtype;
  cache_options.state_dtype = options_.state_dtype;
  std::vector<int64_t> max_new(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const int64_t n_prompt = int64_t(requests[i].prompt.size());
    max_new[i] = std::min(requests[i].max_new_tokens, config.max_position_embeddings - n_prompt);
    // The last sampled token is never fed back, so a sequence holds n_prompt + max_new - 1 positions.
    cache_options.kv_block_count += (n_prompt + max_new[i] - 1 + cache_options.block_len - 1) / cache_options.block_len;
  }
  StateCache cache(config, cache_options);
  std::vector<Sequence> sequences;
  sequences.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    sequences.emplace_back(i, requests[i], max_new[i], *cache.acquire(), vocab, tokenizer_);
  }

  GenerationTimings t;
  std::vector<float> logits;  // [logit rows, vocab]

  // Prefill: pack prompt chunks into forwards of at most max_batch_tokens tokens; a sequence
  // whose prompt ends in a forward samples its first token from that forward's logits.
  const Clock::time_point prefill_start = Clock::now();
  for (bool pending = true; pending;) {
    Batch batch;
    std::vector<Sequence*> sampled_here;
    pending = false;
    for (size_t i = 0; i < sequences.size(); ++i) {
      Sequence& s = sequences[i];
      const std::vector<int32_t>& prompt = requests[i].prompt;
      const int64_t left = int64_t(prompt.size()) - s.prompt_fed();
      const int64_t room = options_.max_batch_tokens - int64_t(batch.tokens.size());
      if (left == 0) continue;
      if (room == 0) {
        pending = true;
        continue;
      }
      const int64_t n = std::min(left, room);
      const int64_t first = int64_t(batch.tokens.size());
      batch.tokens.insert(batch.tokens.end(), prompt.begin() + s.prompt_fed(), prompt.begin() + s.prompt_fed() + n);
      batch.sequences.push_back({s.slot(), first, first + n});
      s.feed_prompt(n);
      if (n == left) {
        batch.logit_rows.push_back(first + n - 1);
        sampled_here.push_back(&s);
      } else {
        pending = true;
      }
    }
    logits.resize(batch.logit_rows.size() * size_t(vocab));
    model_.forward(batch, cache, logits.data(), pool_);
    t.prefill_tokens += int64_t(batch.tokens.size());
    for (size_t r = 0; r < sampled_here.size(); ++r) {
      sampled_here[r]->add_token({logits.data() + r * size_t(vocab), size_t(vocab)}, eos_ids_, on_text);
    }
  }
  t.prefill_seconds = seconds_since(prefill_start);

  // Decode: every live sequence feeds its last token; one forward per step.
  const Clock::time_point decode_start = Clock::now();
  for (;;) {
    Batch batch;
    std::vector<Sequence*> live;
    for (Sequence& s : sequences) {
      if (s.finished()) continue;
      const int64_t row = int64_t(batch.tokens.size());
      batch.tokens.push_back(s.last_token());
      batch.sequences.push_back({s.slot(), row, row + 1});
      batch.logit_rows.push_back(row);
      live.push_back(&s);
    }
    if (live.empty()) break;
    logits.resize(live.size() * size_t(vocab));
    model_.forward(batch, cache, logits.data(), pool_);
    t.decode_tokens += int64_t(live.size());
    for (size_t r = 0; r < live.size(); ++r) {
      live[r]->add_token({logits.data() + r * size_t(vocab), size_t(vocab)}, eos_ids_, on_text);
    }
  }
  t.decode_seconds = seconds_since(decode_start);

  std::vector<GenerationResult> results;
  for (Sequence& s : sequences) {
    cache.release(s.slot());
    results.push_back(s.take_result());
  }
  if (timings) *timings = t;
  return results;
}

}  // namespace bamba

// Every-position logits of a set of sequences; see sequence_logits.h.
#include "runtime/sequence_logits.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/error.h"
#include "state/state_cache.h"

namespace bamba {

LogitsSchedule LogitsSchedule::parse(const std::string& text) {
  if (text == "prefill") return {Kind::Prefill, 0};
  if (text == "decode") return {Kind::Decode, 0};
  if (text.starts_with("split:")) {
    int64_t k = 0;
    const char* begin = text.data() + 6;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(begin, end, k);
    if (ec == std::errc() && ptr == end && k >= 1) return {Kind::Split, k};
  }
  fail("logits mode \"", text, "\": expected prefill, decode or split:K with K >= 1");
}

std::vector<std::vector<float>> sequence_logits(Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                                const LogitsSchedule& schedule, DType kv_dtype,
                                                DType state_dtype, ThreadPool& pool) {
  const ModelConfig& config = model.config();
  const int64_t vocab = config.vocab_size;
  if (sequences.empty()) fail("sequence_logits: no sequences given");

  StateCacheOptions options;
  options.max_sequences = int(sequences.size());
  options.kv_dtype = kv_dtype;
  options.state_dtype = state_dtype;
  for (const std::vector<int32_t>& s : sequences) {
    if (s.empty()) fail("sequence_logits: sequence ", &s - sequences.data(), " is empty");
    options.kv_block_count += (int64_t(s.size()) + options.block_len - 1) / options.block_len;
  }
  StateCache cache(config, options);
  std::vector<int> slots;
  for (size_t i = 0; i < sequences.size(); ++i) slots.push_back(*cache.acquire());

  std::vector<std::vector<float>> out(sequences.size());
  for (size_t i = 0; i < sequences.size(); ++i) out[i].resize(sequences[i].size() * size_t(vocab));

  // One forward over [begin_i, end_i) of every sequence whose span is not empty; the logits
  // of every fed position land in `out`.
  auto run = [&](auto span_of) {
    Batch batch;
    std::vector<std::pair<size_t, int64_t>> row_owner;  // (sequence, position) per logit row
    for (size_t i = 0; i < sequences.size(); ++i) {
      const auto [begin, end] = span_of(int64_t(sequences[i].size()));
      if (begin >= end) continue;
      const int64_t first = int64_t(batch.tokens.size());
      batch.tokens.insert(batch.tokens.end(), sequences[i].begin() + begin, sequences[i].begin() + end);
      batch.sequences.push_back({slots[i], first, int64_t(batch.tokens.size())});
      for (int64_t p = begin; p < end; ++p) {
        batch.logit_rows.push_back(first + (p - begin));
        row_owner.emplace_back(i, p);
      }
    }
    if (batch.tokens.empty()) return;
    std::vector<float> logits(batch.logit_rows.size() * size_t(vocab));  // [rows, vocab]
    model.forward(batch, cache, logits.data(), pool);
    for (size_t r = 0; r < row_owner.size(); ++r) {
      const auto [i, p] = row_owner[r];
      std::memcpy(out[i].data() + p * vocab, logits.data() + r * size_t(vocab), size_t(vocab) * sizeof(float));
    }
  };

  using Span = std::pair<int64_t, int64_t>;
  switch (schedule.kind) {
    case LogitsSchedule::Kind::Prefill:
      run([](int64_t len) { return Span{0, len}; });
      break;
    case LogitsSchedule::Kind::Decode: {
      int64_t longest = 0;
      for (const auto& s : sequences) longest = std::max(longest, int64_t(s.size()));
      for (int64_t t = 0; t < longest; ++t) run([t](int64_t len) { return Span{t, std::min(t + 1, len)}; });
      break;
    }
    case LogitsSchedule::Kind::Split: {
      const int64_t k = schedule.split_at;
      run([k](int64_t len) { return Span{0, std::min(k, len)}; });
      run([k](int64_t len) { return Span{k, len}; });
      break;
    }
  }
  for (int slot : slots) cache.release(slot);
  return out;
}

}  // namespace bamba

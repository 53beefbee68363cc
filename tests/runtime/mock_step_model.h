// A StepModel without a network: each slot's "state" is a hash of the tokens it consumed, and
// the logits of a row are a pseudo-random function of that hash. So a sequence's outputs
// depend only on its own token history — exactly what the engine must preserve — and any
// mix-up of slots, positions or rows shows up as different tokens.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/error.h"
#include "runtime/step_model.h"

namespace bamba::testing {

class MockStepModel : public StepModel {
 public:
  MockStepModel(int n_slots, int64_t vocab, int64_t block_len = 16)
      : vocab_(vocab), block_len_(block_len), hash_(n_slots), positions_(n_slots), used_(n_slots) {}

  [[nodiscard]] int64_t vocab_size() const override { return vocab_; }

  [[nodiscard]] std::optional<int> acquire_slot() override {
    for (size_t s = 0; s < used_.size(); ++s) {
      if (!used_[s]) {
        used_[s] = true;
        hash_[s] = kEmpty;
        positions_[s] = 0;
        return int(s);
      }
    }
    return std::nullopt;
  }

  void release_slot(int seq) override {
    if (!used_.at(size_t(seq))) fail("mock: release of a free slot ", seq);
    used_[size_t(seq)] = false;
    positions_[size_t(seq)] = 0;
  }

  void forward(const Batch& batch, float* logits) override {
    ++n_forwards;
    max_batch_tokens = std::max(max_batch_tokens, int64_t(batch.tokens.size()));
    int64_t expected_begin = 0;
    size_t out_row = 0;
    for (const BatchSequence& s : batch.sequences) {
      if (s.token_begin != expected_begin || s.token_end <= s.token_begin)
        fail("mock: sequence spans are not consecutive");
      expected_begin = s.token_end;
      if (!used_.at(size_t(s.seq))) fail("mock: forward on a free slot ", s.seq);
      for (int64_t t = s.token_begin; t < s.token_end; ++t) {
        hash_[size_t(s.seq)] = mix(hash_[size_t(s.seq)] ^ uint64_t(batch.tokens[size_t(t)]));
        ++positions_[size_t(s.seq)];
        if (out_row < batch.logit_rows.size() && batch.logit_rows[out_row] == t) {
          write_logits(hash_[size_t(s.seq)], logits + out_row * size_t(vocab_));
          ++out_row;
        }
      }
    }
    if (out_row != batch.logit_rows.size()) fail("mock: logit rows out of order or out of range");
  }

  [[nodiscard]] int64_t kv_blocks_in_use() const override {
    int64_t blocks = 0;
    for (size_t s = 0; s < used_.size(); ++s)
      if (used_[s]) blocks += (positions_[s] + block_len_ - 1) / block_len_;
    return blocks;
  }

  [[nodiscard]] int slots_in_use() const {
    int n = 0;
    for (bool u : used_) n += u;
    return n;
  }

  // The logits row the mock gives after `tokens` (the logits of their last position).
  [[nodiscard]] std::vector<float> logits_after(const std::vector<int32_t>& tokens) const {
    uint64_t h = kEmpty;
    for (int32_t t : tokens) h = mix(h ^ uint64_t(t));
    std::vector<float> row(static_cast<size_t>(vocab_));
    write_logits(h, row.data());
    return row;
  }

  // The greedy continuation the mock defines for a prompt, computed without any engine.
  [[nodiscard]] std::vector<int32_t> greedy(const std::vector<int32_t>& prompt, int64_t n) const {
    uint64_t h = kEmpty;
    for (int32_t t : prompt) h = mix(h ^ uint64_t(t));
    std::vector<int32_t> out;
    std::vector<float> row(static_cast<size_t>(vocab_));
    for (int64_t i = 0; i < n; ++i) {
      write_logits(h, row.data());
      int32_t best = 0;
      for (int64_t v = 1; v < vocab_; ++v)
        if (row[size_t(v)] > row[size_t(best)]) best = int32_t(v);
      out.push_back(best);
      h = mix(h ^ uint64_t(best));
    }
    return out;
  }

  int64_t n_forwards = 0;
  int64_t max_batch_tokens = 0;

 private:
  static constexpr uint64_t kEmpty = 0x9e3779b97f4a7c15ull;
  static uint64_t mix(uint64_t x) {  // splitmix64 finaliser
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  void write_logits(uint64_t h, float* row) const {
    for (int64_t v = 0; v < vocab_; ++v)
      row[v] = float(mix(h + uint64_t(v)) >> 40) * (8.0f / float(1 << 24));  // [0, 8)
  }

  int64_t vocab_;
  int64_t block_len_;
  std::vector<uint64_t> hash_;
  std::vector<int64_t> positions_;
  std::vector<bool> used_;
};

}  // namespace bamba::testing

// The `model` of tokenizer.json when it is BPE: the vocabulary, the merge ranks, and the merge loop that
// turns one pre-tokenized piece into token ids.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/json_field.h"
#include "tokenizer/token_index.h"
#include "tokenizer/tokenizer_file.h"

namespace bamba {

class Bpe {
 public:
  // `model` is the `model` field and `entries` its streamed vocab and merges. Throws bamba::Error for other
  // model types, a missing vocab or merges, or a merge whose parts or result are not in the vocab.
  [[nodiscard]] static Bpe from_json(const JsonField& model, BpeEntries entries);

  // Appends the ids of `piece` (in vocab form, e.g. byte-level characters).
  void encode(std::string_view piece, std::vector<int32_t>& ids) const;

  [[nodiscard]] std::optional<int32_t> token_to_id(std::string_view token) const { return vocab_.find(token); }
  [[nodiscard]] std::optional<std::string_view> id_to_token(int32_t id) const { return vocab_.token(id); }
  [[nodiscard]] int32_t size() const { return vocab_.size(); }  // highest id + 1

 private:
  struct Merge {
    int32_t rank = -1;  // position in the merges list: lower merges first; -1 marks an empty slot
    int32_t new_id = 0;  // id of the concatenated token
  };
  // Open-addressing map from a (left id, right id) pair to its merge.
  class MergeTable {
   public:
    void reserve(size_t count);
    void insert_or_assign(int32_t left, int32_t right, Merge merge);
    [[nodiscard]] const Merge* find(int32_t left, int32_t right) const;

   private:
    struct Slot {
      uint64_t key;
      Merge merge;
    };
    [[nodiscard]] size_t slot_of(uint64_t key) const;
    std::vector<Slot> slots_;  // power-of-two size, at most two thirds full
  };

  // Appends the initial symbols of `piece`: one per character, or its byte tokens, or unk.
  void initial_symbols(std::string_view piece, std::vector<int32_t>& symbols) const;

  TokenIndex vocab_;
  MergeTable merges_;
  bool ignore_merges_ = false;  // a piece that is itself a token is emitted whole
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  std::array<int32_t, 256> byte_ids_{};  // ids of the "<0xXX>" tokens for byte_fallback, or -1
};

}  // namespace bamba

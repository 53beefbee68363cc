// BPE loading and merging with the semantics of HF tokenizers' `BPE` model (`Word::merge_all`).
#include "tokenizer/bpe.h"

#include <algorithm>
#include <bit>
#include <queue>

#include "tokenizer/utf8.h"

namespace bamba {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

void Bpe::MergeTable::reserve(size_t count) {
  slots_.assign(std::bit_ceil(std::max<size_t>(16, count + count / 2)), Slot{0, Merge{}});
}

size_t Bpe::MergeTable::slot_of(uint64_t key) const {
  // Fibonacci hashing spreads the structured id pairs over the table.
  const size_t mask = slots_.size() - 1;
  size_t slot = (key * 0x9E3779B97F4A7C15ull) >> (64 - std::countr_zero(slots_.size()));
  while (slots_[slot].merge.rank >= 0 && slots_[slot].key != key) slot = (slot + 1) & mask;
  return slot;
}

void Bpe::MergeTable::insert_or_assign(int32_t left, int32_t right, Merge merge) {
  const uint64_t key = pair_key(left, right);
  slots_[slot_of(key)] = {key, merge};
}

const Bpe::Merge* Bpe::MergeTable::find(int32_t left, int32_t right) const {
  const Slot& slot = slots_[slot_of(pair_key(left, right))];
  return slot.merge.rank >= 0 ? &slot.merge : nullptr;
}

Bpe Bpe::from_json(const JsonField& model, BpeEntries entries) {
  const std::string& type = model.at("type").as_string();
  if (type != "BPE") model.at("type").fail("unsupported model type \"", type, "\" (only BPE is supported)");
  // GPT-2-style files write "" for the affixes, which means none.
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const auto field = model.find(affix); field && !field->as_string().empty()) {
      field->fail("not supported (must be null or \"\")");
    }
  }
  if (const auto dropout = model.find("dropout")) dropout->fail("not supported (must be null)");
  // The streamed members left placeholders of the expected type; anything else is reported here.
  const JsonField vocab = model.at("vocab");
  vocab.require_object();
  const JsonField merges = model.at("merges");
  merges.require_array();

  Bpe bpe;
  if (const auto repeated = bpe.vocab_.build(std::move(entries.vocab))) {
    const auto& [token, id] = *repeated;
    vocab.fail("token \"", token, "\" (id ", id, ") repeats a token or an id");
  }
  bpe.merges_.reserve(entries.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < entries.merges.size(); ++rank) {
    const auto& [left_token, right_token] = entries.merges[rank];
    const auto require = [&](std::string_view part) {
      const auto id = bpe.token_to_id(part);
      if (!id) {
        merges.fail("merge ", rank, " [\"", left_token, "\", \"", right_token, "\"]: token \"", part,
                    "\" is not in model.vocab");
      }
      return *id;
    };
    const int32_t left = require(left_token);
    const int32_t right = require(right_token);
    joined.assign(left_token).append(right_token);
    // A repeated pair keeps its last rank, as HF's map construction does.
    bpe.merges_.insert_or_assign(left, right, Merge{static_cast<int32_t>(rank), require(joined)});
  }

  bpe.ignore_merges_ = model.bool_or("ignore_merges", false);
  bpe.fuse_unk_ = model.bool_or("fuse_unk", false);
  bpe.byte_fallback_ = model.bool_or("byte_fallback", false);
  if (const auto unk = model.find("unk_token")) {
    bpe.unk_id_ = bpe.token_to_id(unk->as_string());
    if (!bpe.unk_id_) unk->fail("token \"", unk->as_string(), "\" is not in model.vocab");
  }
  for (int b = 0; b < 256; ++b) {
    bpe.byte_ids_[b] = bpe.token_to_id(str_cat("<0x", "0123456789ABCDEF"[b >> 4], "0123456789ABCDEF"[b & 15], ">"))
                           .value_or(-1);
  }
  return bpe;
}

void Bpe::initial_symbols(std::string_view piece, std::vector<int32_t>& symbols) const {
  std::optional<int32_t> pending_unk;  // an unknown character waiting to be emitted (or fused)
  for (size_t pos = 0; pos < piece.size();) {
    const size_t length = utf8::sequence_length(piece, pos);
    const std::string_view ch = piece.substr(pos, length);
    pos += length;
    if (const auto id = token_to_id(ch)) {
      if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes = true;
      for (const char c : ch) all_bytes = all_bytes && byte_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all_bytes) {
        if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
        for (const char c : ch) symbols.push_back(byte_ids_[static_cast<unsigned char>(c)]);
        continue;
      }
    }
    // Without an unk token an unknown character is dropped, as in HF.
    if (!unk_id_) continue;
    if (pending_unk && !fuse_unk_) symbols.push_back(*pending_unk);
    pending_unk = unk_id_;
  }
  if (pending_unk) symbols.push_back(*pending_unk);
}

void Bpe::encode(std::string_view piece, std::vector<int32_t>& ids) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(piece)) {
      ids.push_back(*id);
      return;
    }
  }
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // neighbours still alive, -1 at the ends
    bool alive;
  };
  std::vector<int32_t> initial;
  initial_symbols(piece, initial);
  const auto n = static_cast<int32_t>(initial.size());
  std::vector<Symbol> symbols(n);
  for (int32_t i = 0; i < n; ++i) symbols[i] = {initial[i], i - 1, i + 1 < n ? i + 1 : -1, true};

  struct Candidate {
    int32_t rank, pos, new_id;
    // Lowest rank first, then leftmost.
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate> queue;
  const auto push_pair = [&](int32_t pos) {
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    if (const Merge* merge = merges_.find(symbols[pos].id, symbols[next].id)) {
      queue.push({merge->rank, pos, merge->new_id});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    // Skip entries made stale by an earlier merge on either side.
    const Merge* merge = merges_.find(left.id, symbols[left.next].id);
    if (merge == nullptr || merge->new_id != top.new_id) continue;
    Symbol& right = symbols[left.next];
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int32_t i = 0; i >= 0 && i < n; i = symbols[i].next) ids.push_back(symbols[i].id);
}

}  // namespace bamba

// Linear-probing hash index over token strings stored by id.
#include "tokenizer/token_index.h"

#include <algorithm>
#include <bit>
#include <functional>

namespace bamba {
namespace {

uint64_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }
uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

}  // namespace

std::optional<std::pair<std::string, int32_t>> TokenIndex::build(
    std::vector<std::pair<std::string, int32_t>> entries) {
  int32_t size = 0;
  for (const auto& entry : entries) size = std::max(size, entry.second + 1);
  tokens_.assign(size, std::string());
  used_.assign(size, false);
  slots_.assign(std::bit_ceil(std::max<size_t>(16, entries.size() * 2)), Slot{});
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto& [token, id] = entries[i];
    if (used_[id] || find(token)) return std::move(entries[i]);
    const uint64_t hash = hash_of(token);
    size_t slot = hash & mask;
    while (slots_[slot].id >= 0) slot = (slot + 1) & mask;
    slots_[slot] = {tag_of(hash), id};
    tokens_[id] = std::move(token);
    used_[id] = true;
  }
  return std::nullopt;
}

std::optional<int32_t> TokenIndex::find(std::string_view token) const {
  if (slots_.empty()) return std::nullopt;
  const uint64_t hash = hash_of(token);
  const uint32_t tag = tag_of(hash);
  const size_t mask = slots_.size() - 1;
  for (size_t slot = hash & mask; slots_[slot].id >= 0; slot = (slot + 1) & mask) {
    if (slots_[slot].tag == tag && tokens_[slots_[slot].id] == token) return slots_[slot].id;
  }
  return std::nullopt;
}

std::optional<std::string_view> TokenIndex::token(int32_t id) const {
  if (id < 0 || id >= size() || !used_[id]) return std::nullopt;
  return tokens_[id];
}

}  // namespace bamba

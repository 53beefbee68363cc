// Token text <-> id for a BPE vocabulary: each string stored once, by id, with an open-addressing index
// over them, compact enough that the many lookups of loading and encoding mostly hit cache.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bamba {

class TokenIndex {
 public:
  // Builds from (token, id) entries. Returns the first entry whose token or id repeats an earlier one
  // (the index is then unusable), or nullopt on success.
  [[nodiscard]] std::optional<std::pair<std::string, int32_t>> build(
      std::vector<std::pair<std::string, int32_t>> entries);

  [[nodiscard]] std::optional<int32_t> find(std::string_view token) const;
  // Highest id + 1.
  [[nodiscard]] int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  // The token of `id` in [0, size()); nullopt for an id no token has.
  [[nodiscard]] std::optional<std::string_view> token(int32_t id) const;

 private:
  struct Slot {
    uint32_t tag = 0;  // high hash bits: most mismatches are rejected without touching the string
    int32_t id = -1;   // -1: empty
  };

  std::vector<std::string> tokens_;  // by id
  std::vector<bool> used_;           // by id: some token has this id
  std::vector<Slot> slots_;          // power-of-two size, at most half full
};

}  // namespace bamba

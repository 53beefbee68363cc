// Reads tokenizer.json in one streaming (SAX) pass. The two large members, `model.vocab` and
// `model.merges`, go straight into flat lists instead of a JSON tree, which keeps loading a 128k-token
// vocabulary with 280k merges fast; everything else becomes an ordinary JsonField tree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/json_field.h"

namespace bamba {

// `model.vocab` and `model.merges` as read.
struct BpeEntries {
  std::vector<std::pair<std::string, int32_t>> vocab;  // (token, id) in file order
  std::vector<std::pair<std::string, std::string>> merges;  // in priority order; "#version" lines dropped
};

struct TokenizerFile {
  JsonField root;  // where `model.vocab` / `model.merges` were streamed, they hold an empty object / array
  BpeEntries bpe;

  // Throws bamba::Error naming the file (and the field, for a bad vocab id or merge entry).
  [[nodiscard]] static TokenizerFile read(const std::filesystem::path& path);
};

}  // namespace bamba

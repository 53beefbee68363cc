// The `added_tokens` of tokenizer.json and how they are found in input text before pre-tokenization:
// leftmost-longest exact matches, with HF's lstrip / rstrip / single_word rules.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_field.h"

namespace bamba {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;       // the match also takes the white space before it
  bool rstrip = false;       // ... and after it
  bool single_word = false;  // only matches when not inside a word
  bool normalized = false;   // matched in normalized text (a second pass, after the others)
};

// A run of input: either an added token or text that still needs pre-tokenization and BPE.
struct Segment {
  std::string_view text;  // the input text when `token_id` < 0
  int32_t token_id = -1;
};

class AddedTokens {
 public:
  // `field` is the `added_tokens` array (may be null).
  [[nodiscard]] static AddedTokens from_json(const JsonField& field);

  [[nodiscard]] const std::vector<AddedToken>& tokens() const { return tokens_; }

  // Splits `text` (valid UTF-8) into segments. With `parse_special` false, special tokens are left as text
  // (HF `split_special_tokens=True`); other added tokens are still matched.
  [[nodiscard]] std::vector<Segment> split(std::string_view text, bool parse_special) const;

 private:
  // A byte trie over the contents of one pass's tokens.
  struct Trie {
    struct Node {
      std::unordered_map<unsigned char, int32_t> next;
      int32_t token = -1;  // index into `tokens_` of the token ending here
    };
    std::vector<Node> nodes{Node{}};
    std::array<bool, 256> starts{};  // first bytes of the tokens: skips most positions without a lookup
    void insert(std::string_view content, int32_t token);
    // Index of the longest token starting at `pos`, or -1.
    [[nodiscard]] int32_t longest_at(std::string_view text, size_t pos) const;
  };

  void split_pass(const Trie& trie, std::string_view text, bool parse_special, std::vector<Segment>& out) const;

  std::vector<AddedToken> tokens_;
  Trie raw_;         // tokens with `normalized` false: matched first, in the raw text
  Trie normalized_;  // the rest: matched in what the first pass left as text
};

}  // namespace bamba

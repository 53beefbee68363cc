// Added-token matching, mirroring HF `AddedVocabulary::find_matches`.
#include "tokenizer/added_tokens.h"

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace bamba {
namespace {

// Whether the character starting at `pos` is a word character in the sense of `single_word`: Unicode `\w`
// as in the Rust regex crate (letters, marks, decimal digits, connectors, joiners).
bool is_word_char_at(std::string_view text, size_t pos) {
  static const Regex word(R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}])", false, "word class");
  std::vector<std::pair<size_t, size_t>> matches;
  word.find_all(text.substr(pos, utf8::sequence_length(text, pos)), matches);
  return !matches.empty();
}

// Start of the character that ends at `end` (exclusive) in valid UTF-8.
size_t previous_char(std::string_view text, size_t end) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

}  // namespace

void AddedTokens::Trie::insert(std::string_view content, int32_t token) {
  starts[static_cast<unsigned char>(content[0])] = true;
  int32_t node = 0;
  for (const char c : content) {
    const auto key = static_cast<unsigned char>(c);
    auto it = nodes[node].next.find(key);
    if (it == nodes[node].next.end()) {
      nodes.emplace_back();
      it = nodes[node].next.emplace(key, static_cast<int32_t>(nodes.size() - 1)).first;
    }
    node = it->second;
  }
  nodes[node].token = token;
}

int32_t AddedTokens::Trie::longest_at(std::string_view text, size_t pos) const {
  int32_t node = 0, found = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto it = nodes[node].next.find(static_cast<unsigned char>(text[i]));
    if (it == nodes[node].next.end()) break;
    node = it->second;
    if (nodes[node].token >= 0) found = nodes[node].token;
  }
  return found;
}

AddedTokens AddedTokens::from_json(const JsonField& field) {
  AddedTokens result;
  if (field.is_null()) return result;
  for (size_t i = 0; i < field.size(); ++i) {
    const JsonField entry = field.at(i);
    AddedToken token;
    const int64_t id = entry.at("id").as_int();
    if (id < 0 || id > INT32_MAX) entry.at("id").fail("id ", id, " out of range");
    token.id = static_cast<int32_t>(id);
    token.content = entry.at("content").as_string();
    if (token.content.empty()) entry.at("content").fail("empty token");
    if (utf8::find_invalid(token.content)) entry.at("content").fail("not valid UTF-8");
    token.special = entry.bool_or("special", false);
    token.lstrip = entry.bool_or("lstrip", false);
    token.rstrip = entry.bool_or("rstrip", false);
    token.single_word = entry.bool_or("single_word", false);
    // HF's default for `normalized` is the opposite of `special`.
    token.normalized = entry.bool_or("normalized", !token.special);
    const auto index = static_cast<int32_t>(result.tokens_.size());
    (token.normalized ? result.normalized_ : result.raw_).insert(token.content, index);
    result.tokens_.push_back(std::move(token));
  }
  return result;
}

std::vector<Segment> AddedTokens::split(std::string_view text, bool parse_special) const {
  std::vector<Segment> first;
  split_pass(raw_, text, parse_special, first);
  std::vector<Segment> result;
  for (const Segment& s : first) {
    if (s.token_id >= 0) {
      result.push_back(s);
    } else {
      split_pass(normalized_, s.text, parse_special, result);
    }
  }
  return result;
}

void AddedTokens::split_pass(const Trie& trie, std::string_view text, bool parse_special,
                             std::vector<Segment>& out) const {
  size_t text_start = 0;  // start of the text not yet emitted
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t index = trie.starts[static_cast<unsigned char>(text[pos])] ? trie.longest_at(text, pos) : -1;
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[index];
    size_t start = pos, stop = pos + token.content.size();
    pos = stop;  // like aho-corasick's non-overlapping search, a rejected match is skipped whole
    if (token.special && !parse_special) continue;
    if (token.single_word) {
      const bool word_before = start > 0 && is_word_char_at(text, previous_char(text, start));
      const bool word_after = stop < text.size() && is_word_char_at(text, stop);
      if (word_before || word_after) continue;
    }
    if (token.lstrip) {
      // Never reach back into the previous token.
      while (start > text_start) {
        const size_t prev = previous_char(text, start);
        size_t after = prev;
        if (!utf8::is_white_space(utf8::next(text, after))) break;
        start = prev;
      }
    }
    if (token.rstrip) {
      size_t after = stop;
      while (after < text.size()) {
        size_t next = after;
        if (!utf8::is_white_space(utf8::next(text, next))) break;
        after = next;
      }
      stop = after;
      pos = stop;
    }
    if (text_start < start) out.push_back({text.substr(text_start, start - text_start), -1});
    out.push_back({text.substr(start, stop - start), token.id});
    text_start = stop;
  }
  if (text_start < text.size()) out.push_back({text.substr(text_start), -1});
}

}  // namespace bamba

// StreamDecoder: holds back only the bytes of a character that more tokens may still complete, so the
// pieces it returns join to exactly what `Tokenizer::decode` gives.
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace bamba {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string StreamDecoder::push(int32_t id) {
  tokenizer_.append_token_bytes(id, skip_special_tokens_, pending_);
  const size_t ready = pending_.size() - utf8::incomplete_tail(pending_);
  std::string text;
  utf8::append_lossy(std::string_view(pending_).substr(0, ready), text);
  pending_.erase(0, ready);
  return text;
}

std::string StreamDecoder::flush() {
  std::string text;
  utf8::append_lossy(pending_, text);
  pending_.clear();
  return text;
}

}  // namespace bamba

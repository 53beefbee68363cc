// UTF-8 coding shared by the tokenizer: validation, lossy repair (as Rust's `from_utf8_lossy`,
// which HF decoders use), the incomplete tail a stream must hold back, and the Unicode White_Space set.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bamba::utf8 {

// Inclusive code point range.
struct Range {
  char32_t first;
  char32_t last;
};

// Unicode White_Space, the meaning of `\s` in Oniguruma (HF tokenizers) and of Rust's `char::is_whitespace`.
[[nodiscard]] std::span<const Range> white_space_ranges();
[[nodiscard]] bool is_white_space(char32_t cp);

// Byte offset of the first ill-formed sequence, or nullopt when `s` is valid UTF-8.
[[nodiscard]] std::optional<size_t> find_invalid(std::string_view s);

// Decodes the code point at `pos` of valid UTF-8 and advances `pos` past it.
[[nodiscard]] char32_t next(std::string_view s, size_t& pos);

// Length in bytes of the code point starting at `pos` of valid UTF-8.
[[nodiscard]] size_t sequence_length(std::string_view s, size_t pos);

void append(char32_t cp, std::string& out);

// Appends `bytes`, replacing each maximal ill-formed subsequence with U+FFFD.
void append_lossy(std::string_view bytes, std::string& out);

// Number of trailing bytes (0..3) that start a well-formed sequence but are cut short: more bytes may
// complete them, so a streaming decoder must wait before repairing them.
[[nodiscard]] size_t incomplete_tail(std::string_view bytes);

}  // namespace bamba::utf8

// GPT-2's reversible map between the 256 byte values and printable code points, which byte-level BPE
// vocabularies are written in (e.g. the space byte is "Ġ", U+0120).
#pragma once

#include <string>
#include <string_view>

namespace bamba::byte_level {

// Appends the code point of each byte of `bytes`, UTF-8 encoded.
void append_encoded(std::string_view bytes, std::string& out);

// Appends the bytes that `token` (valid UTF-8) stands for. Returns false and leaves `out` unchanged when a
// character of `token` is outside the map, as for added tokens written as plain text.
[[nodiscard]] bool append_decoded(std::string_view token, std::string& out);

}  // namespace bamba::byte_level

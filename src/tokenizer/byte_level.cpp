// Builds the GPT-2 `bytes_to_unicode` table once: printable Latin-1 bytes map to themselves, the other
// bytes to U+0100 upwards in byte order.
#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "tokenizer/utf8.h"

namespace bamba::byte_level {
namespace {

constexpr char32_t kMaxCodePoint = 0x100 + 68;  // 256 bytes, 188 printable: the rest use U+0100..U+0143

struct Tables {
  std::array<std::string, 256> encoded;                // byte -> UTF-8 of its code point
  std::array<int16_t, kMaxCodePoint> decoded{};        // code point -> byte, or -1
};

bool printable(int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

const Tables& tables() {
  static const Tables t = [] {
    Tables r;
    r.decoded.fill(-1);
    char32_t next_extra = 0x100;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = printable(b) ? static_cast<char32_t>(b) : next_extra++;
      utf8::append(cp, r.encoded[b]);
      r.decoded[cp] = static_cast<int16_t>(b);
    }
    return r;
  }();
  return t;
}

}  // namespace

void append_encoded(std::string_view bytes, std::string& out) {
  const Tables& t = tables();
  for (const char c : bytes) out += t.encoded[static_cast<unsigned char>(c)];
}

bool append_decoded(std::string_view token, std::string& out) {
  const Tables& t = tables();
  const size_t start = out.size();
  for (size_t pos = 0; pos < token.size();) {
    const char32_t cp = utf8::next(token, pos);
    if (cp >= kMaxCodePoint || t.decoded[cp] < 0) {
      out.resize(start);
      return false;
    }
    out += static_cast<char>(t.decoded[cp]);
  }
  return true;
}

}  // namespace bamba::byte_level

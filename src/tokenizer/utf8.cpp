// UTF-8 validation and repair following Unicode's well-formed byte sequence table (Table 3-7).
#include "tokenizer/utf8.h"

#include <algorithm>
#include <array>

namespace bamba::utf8 {
namespace {

constexpr std::array<Range, 10> kWhiteSpace{{{0x09, 0x0D},
                                             {0x20, 0x20},
                                             {0x85, 0x85},
                                             {0xA0, 0xA0},
                                             {0x1680, 0x1680},
                                             {0x2000, 0x200A},
                                             {0x2028, 0x2029},
                                             {0x202F, 0x202F},
                                             {0x205F, 0x205F},
                                             {0x3000, 0x3000}}};

// What sits at one position of a byte string.
struct Scan {
  enum Kind { kValid, kInvalid, kTruncated } kind;
  size_t length;  // bytes of the valid sequence, the maximal ill-formed subpart, or the cut-short prefix
};

Scan scan(std::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {Scan::kValid, 1};
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte; later bytes are always 80..BF
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {Scan::kInvalid, 1};
  }
  for (size_t i = 1; i < need; ++i) {
    if (pos + i >= s.size()) return {Scan::kTruncated, i};
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return {Scan::kInvalid, i};
  }
  return {Scan::kValid, need};
}

}  // namespace

std::span<const Range> white_space_ranges() { return kWhiteSpace; }

bool is_white_space(char32_t cp) {
  return std::any_of(kWhiteSpace.begin(), kWhiteSpace.end(),
                     [cp](const Range& r) { return cp >= r.first && cp <= r.last; });
}

std::optional<size_t> find_invalid(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Scan sc = scan(s, pos);
    if (sc.kind != Scan::kValid) return pos;
    pos += sc.length;
  }
  return std::nullopt;
}

size_t sequence_length(std::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  return b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
}

char32_t next(std::string_view s, size_t& pos) {
  const size_t n = sequence_length(s, pos);
  const auto b0 = static_cast<unsigned char>(s[pos]);
  char32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t i = 1; i < n; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
  pos += n;
  return cp;
}

void append(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void append_lossy(std::string_view bytes, std::string& out) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Scan sc = scan(bytes, pos);
    if (sc.kind == Scan::kValid) {
      out.append(bytes.substr(pos, sc.length));
    } else {
      append(0xFFFD, out);
    }
    pos += sc.length;
  }
}

size_t incomplete_tail(std::string_view bytes) {
  // A sequence is at most 4 bytes, so only the last 3 positions can start a cut-short one.
  for (size_t back = std::min<size_t>(3, bytes.size()); back > 0; --back) {
    const size_t pos = bytes.size() - back;
    const Scan sc = scan(bytes, pos);
    if (sc.kind == Scan::kTruncated) return back;
  }
  return 0;
}

}  // namespace bamba::utf8

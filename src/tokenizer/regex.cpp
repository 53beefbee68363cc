// PCRE2 wrapper: compiles once (shared, read-only, so matching is thread-safe) and iterates matches
// with a match block per call.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include <array>
#include <optional>

#include "base/error.h"
#include "tokenizer/utf8.h"

namespace bamba {
namespace {

constexpr std::array<utf8::Range, 3> kHexDigit{{{'0', '9'}, {'A', 'F'}, {'a', 'f'}}};

// Class body (no brackets) listing `ranges`, or their complement in 0..U+10FFFF. Ranges may span the
// surrogates, which PCRE2 accepts in a class range.
std::string class_body(std::span<const utf8::Range> ranges, bool complement) {
  std::string body;
  const auto add = [&body](char32_t first, char32_t last) {
    body += str_cat("\\x{", std::hex, static_cast<uint32_t>(first), "}");
    if (last != first) body += str_cat("-\\x{", std::hex, static_cast<uint32_t>(last), "}");
  };
  if (!complement) {
    for (const auto& r : ranges) add(r.first, r.last);
    return body;
  }
  char32_t next = 0;
  for (const auto& r : ranges) {
    if (r.first > next) add(next, r.first - 1);
    next = r.last + 1;
  }
  if (next <= 0x10FFFF) add(next, 0x10FFFF);
  return body;
}

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buffer{};
  pcre2_get_error_message(code, buffer.data(), buffer.size());
  return reinterpret_cast<const char*>(buffer.data());
}

}  // namespace

std::string oniguruma_to_pcre2(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  bool in_class = false;
  size_t class_body_start = 0;  // first body position: a `]` there is a literal, later it closes
  for (size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      if (e == 'Q') {  // \Q...\E is literal text: copy it untouched
        const size_t end = pattern.find("\\E", i + 2);
        const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out.append(pattern.substr(i, stop - i));
        i = stop;
        continue;
      }
      std::optional<std::string> body;
      if (e == 's' || e == 'S') body = class_body(utf8::white_space_ranges(), e == 'S');
      if (e == 'h' || e == 'H') body = class_body(kHexDigit, e == 'H');
      if (body) {
        out += in_class ? *body : "[" + *body + "]";
        i += 2;
        continue;
      }
      // Copy the escape whole; `\c` takes one more character, which may be `[` or `]`.
      const size_t n = (e == 'c' && i + 2 < pattern.size()) ? 3 : 2;
      out.append(pattern.substr(i, n));
      i += n;
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {  // POSIX class [:name:]
        const size_t end = pattern.find(":]", i + 2);
        const size_t stop = end == std::string_view::npos ? i + 1 : end + 2;
        out.append(pattern.substr(i, stop - i));
        i = stop;
        continue;
      }
      if (c == ']' && i > class_body_start) in_class = false;
      out += c;
      ++i;
      continue;
    }
    out += c;
    ++i;
    if (c == '[') {
      in_class = true;
      if (i < pattern.size() && pattern[i] == '^') out += pattern[i++];
      class_body_start = i;  // a `]` right at the start is a literal
    }
  }
  return out;
}

struct Regex::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

Regex::Regex(std::string_view pattern, bool literal, std::string_view where) {
  const std::string translated = literal ? std::string(pattern) : oniguruma_to_pcre2(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  // PCRE2 rejects UCP together with LITERAL; it has no meaning there anyway.
  const uint32_t options = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  auto compiled = std::make_shared<Compiled>();
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(), options,
                                 &error_code, &error_offset, nullptr);
  if (compiled->code == nullptr) {
    fail(where, ": invalid regex \"", pattern, "\": ", pcre2_message(error_code), " (at offset ", error_offset,
         " of the PCRE2 form \"", translated, "\")");
  }
  // JIT is only a speed-up: without it (e.g. unsupported CPU) the interpreter gives the same matches.
  (void)pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);
  compiled_ = std::move(compiled);
}

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(compiled_->code, nullptr), &pcre2_match_data_free);
  if (!match) fail("regex: out of memory");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t search_from = 0;
  std::optional<size_t> last_match_end;
  while (search_from <= text.size()) {
    // The caller has validated the UTF-8 once; checking on every call would rescan the rest each time.
    const int rc = pcre2_match(compiled_->code, subject, text.size(), search_from, PCRE2_NO_UTF_CHECK,
                               match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("regex match failed: ", pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    const size_t begin = ovector[0], end = ovector[1];
    if (begin == end && last_match_end == end) {
      search_from += search_from < text.size() ? utf8::sequence_length(text, search_from) : 1;
      continue;
    }
    out.emplace_back(begin, end);
    search_from = end;
    last_match_end = end;
  }
}

}  // namespace bamba

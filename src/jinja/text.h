// UTF-8 and Python string semantics that the template language needs: code-point indexing,
// Python's whitespace set, str.strip/split, repr() quoting and float repr.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bamba::jinja::text {

// Decodes UTF-8 into code points. Bytes that are not valid UTF-8 become U+DC80..U+DCFF (Python's
// surrogateescape), so encode(decode(s)) == s for any input.
[[nodiscard]] std::u32string decode(std::string_view s);
[[nodiscard]] std::string encode(std::u32string_view s);
void append_utf8(std::string& out, char32_t c);

[[nodiscard]] bool is_ascii(std::string_view s);
// Python's len() of a str: the number of code points.
[[nodiscard]] std::size_t length(std::string_view s);
// Python's str.isspace() for one code point.
[[nodiscard]] bool is_space(char32_t c);

// str.strip / lstrip / rstrip; without chars, strips Python whitespace.
[[nodiscard]] std::string strip(std::string_view s, bool left, bool right,
                                std::optional<std::string_view> chars = std::nullopt);
// str.split(sep, maxsplit); without sep, splits on runs of whitespace and drops empty parts.
[[nodiscard]] std::vector<std::string> split(std::string_view s, std::optional<std::string_view> sep,
                                             long long maxsplit = -1);
// str.splitlines() (without keepends).
[[nodiscard]] std::vector<std::string> splitlines(std::string_view s);
// str.replace(old, new, count).
[[nodiscard]] std::string replace(std::string_view s, std::string_view from, std::string_view to,
                                  long long count = -1);

// Case mapping for ASCII, Latin-1/Extended-A, Greek and Cyrillic (other scripts unchanged).
[[nodiscard]] std::string to_upper(std::string_view s);
[[nodiscard]] std::string to_lower(std::string_view s);

// Python's repr() of a str, e.g. 'it\'s' -> "it's".
[[nodiscard]] std::string repr(std::string_view s);
// Python's repr() of a float: shortest round-trip digits, '1.0', '1e-05', '1e+16', 'inf', 'nan'.
[[nodiscard]] std::string format_float(double v);

}  // namespace bamba::jinja::text

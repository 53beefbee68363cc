// read_json_file: nlohmann's parser plus a pre-pass for Python's non-finite number tokens.
#include "io/json_file.h"

#include <cstring>
#include <limits>
#include <vector>

#include "base/error.h"
#include "io/mapped_file.h"

namespace bamba::io {

namespace {

// A non-finite token found outside strings, and which number of the document it is.
struct NonFinite {
  size_t number_index;  // 0-based among all numbers of the document, in text order
  size_t offset;        // byte offset of the token
  size_t length;        // bytes of the token
  double value;
};

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '+' || c == '.';
}

// Finds `Infinity`, `-Infinity` and `NaN` outside strings. Every bare token that starts like
// a number (digit or '-') is counted, so that the parser's n-th number can be matched to it.
std::vector<NonFinite> find_non_finite(std::string_view text) {
  std::vector<NonFinite> found;
  size_t numbers = 0;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {  // skip the string, escapes included
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (!is_token_char(c)) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && is_token_char(text[end])) ++end;
    const std::string_view token = text.substr(i, end - i);
    constexpr double inf = std::numeric_limits<double>::infinity();
    if (token == "Infinity" || token == "-Infinity" || token == "NaN") {
      const double value = token == "NaN" ? std::numeric_limits<double>::quiet_NaN()
                                          : (token[0] == '-' ? -inf : inf);
      found.push_back({numbers++, i, token.size(), value});
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      ++numbers;
    }
    i = end;
  }
  return found;
}

[[noreturn]] void fail_parse(const std::filesystem::path& path, const nlohmann::json::exception& e) {
  fail(path.string(), ": invalid JSON: ", json_error_reason(e));
}

}  // namespace

std::string json_error_reason(const nlohmann::json::exception& e) {
  std::string_view what = e.what();
  if (what.starts_with("[json.exception.")) {
    const size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return std::string(what);
}

nlohmann::json parse_json_text(std::string_view text, const std::filesystem::path& path) {
  const std::vector<NonFinite> non_finite = find_non_finite(text);
  try {
    if (non_finite.empty()) return nlohmann::json::parse(text);

    // Each token becomes "0" padded with spaces (same length, so error positions still
    // match the file); the parser callback then puts the real value in that number's place.
    std::string patched(text);
    for (const NonFinite& t : non_finite) {
      patched.replace(t.offset, t.length, t.length, ' ');
      patched[t.offset] = '0';
    }
    size_t number_index = 0;
    size_t next = 0;
    auto restore = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
      if (event == nlohmann::json::parse_event_t::value && parsed.is_number()) {
        if (next < non_finite.size() && non_finite[next].number_index == number_index) {
          parsed = non_finite[next++].value;
        }
        ++number_index;
      }
      return true;
    };
    nlohmann::json root = nlohmann::json::parse(patched, restore);
    if (next != non_finite.size()) {
      fail(path.string(), ": invalid JSON: token '", text.substr(non_finite[next].offset, non_finite[next].length),
           "' at byte ", non_finite[next].offset, " is not a number value");
    }
    return root;
  } catch (const nlohmann::json::exception& e) {
    fail_parse(path, e);
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  const MappedFile file = MappedFile::open(path);
  const auto bytes = file.bytes();
  return parse_json_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

}  // namespace bamba::io

// Tokenizer for Jinja source, following the rules of Jinja2's lexer (jinja2/lexer.py).
#include "jinja/lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <utility>

#include "base/error.h"
#include "jinja/text.h"

namespace bamba::jinja {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Jinja2 normalizes every newline sequence to "\n" and drops one trailing newline
// (keep_trailing_newline=False).
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexOptions& options) : src_(normalize_newlines(source)), options_(options) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    std::size_t pos = 0;
    while (pos < src_.size()) {
      const std::size_t tag = find_tag(pos);
      if (tag == std::string::npos) {
        emit_text(src_.substr(pos));
        break;
      }
      const char kind = src_[tag + 1];
      const char marker = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      const bool has_marker = marker == '-' || marker == '+';
      std::string text = src_.substr(pos, tag - pos);
      strip_before_tag(text, pos, kind != '{', marker);
      emit_text(std::move(text));
      std::size_t body = tag + 2 + (has_marker ? 1 : 0);
      if (kind == '#') {
        pos = lex_comment(tag, body);
      } else if (kind == '%' && is_raw_begin(body)) {
        pos = lex_raw(body);
      } else {
        pos = lex_tag(kind == '%', tag, body);
      }
    }
    tokens_.push_back(Token{TokenKind::End, "", position(src_.size())});
    return std::move(tokens_);
  }

 private:
  SourcePos position(std::size_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
    return SourcePos{static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  [[noreturn]] void error_at(std::size_t offset, std::string_view message) const {
    syntax_error(position(offset), message);
  }

  std::size_t find_tag(std::size_t from) const {
    for (std::size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // `text` ends right before a tag whose opening marker is `marker`; `text_start` is where it
  // began in the source. `-` strips all trailing whitespace; lstrip_blocks strips spaces and tabs
  // back to the line start for block and comment tags unless the tag says `+`.
  void strip_before_tag(std::string& text, std::size_t text_start, bool block_or_comment, char marker) const {
    if (marker == '-') {
      while (!text.empty() && is_ws(text.back())) text.pop_back();
      return;
    }
    if (marker == '+' || !block_or_comment || !options_.lstrip_blocks) return;
    const std::size_t newline = text.rfind('\n');
    const std::size_t line_start = newline == std::string::npos ? 0 : newline + 1;
    const bool line_starting = text_start == 0 || src_[text_start - 1] == '\n';
    if (line_start == 0 && !line_starting) return;
    for (std::size_t i = line_start; i < text.size(); ++i) {
      if (text[i] != ' ' && text[i] != '\t') return;
    }
    text.resize(line_start);
  }

  // Position after a closing tag at `end_marker`, which may be preceded by `-` or `+`.
  std::size_t after_close(std::size_t after, char marker, bool trim_newline) const {
    if (marker == '-') {
      while (after < src_.size() && is_ws(src_[after])) ++after;
    } else if (marker != '+' && trim_newline && options_.trim_blocks && after < src_.size() && src_[after] == '\n') {
      ++after;
    }
    return after;
  }

  void emit_text(std::string text) {
    if (!text.empty()) tokens_.push_back(Token{TokenKind::Text, std::move(text), {}});
  }

  std::size_t lex_comment(std::size_t tag, std::size_t body) {
    const std::size_t end = src_.find("#}", body);
    if (end == std::string::npos) error_at(tag, "missing end of comment tag");
    const char marker = end > body ? src_[end - 1] : '\0';
    return after_close(end + 2, marker, true);
  }

  // Matches `\s*name\s*` then `-%}`, `+%}` (if allow_plus) or `%}` at `at`; returns the offset
  // of the `%}` and sets `marker`, or npos.
  std::size_t match_simple_block(std::size_t at, std::string_view name, bool allow_plus, char& marker) const {
    while (at < src_.size() && is_ws(src_[at])) ++at;
    if (src_.compare(at, name.size(), name) != 0) return std::string::npos;
    at += name.size();
    while (at < src_.size() && is_ws(src_[at])) ++at;
    marker = '\0';
    if (at < src_.size() && (src_[at] == '-' || (allow_plus && src_[at] == '+'))) marker = src_[at++];
    if (src_.compare(at, 2, "%}") != 0) return std::string::npos;
    return at;
  }

  bool is_raw_begin(std::size_t body) const {
    char marker = '\0';
    return match_simple_block(body, "raw", false, marker) != std::string::npos;
  }

  // `{% raw %}` was seen at body; the content up to `{% endraw %}` is literal text.
  std::size_t lex_raw(std::size_t body) {
    char marker = '\0';
    const std::size_t close = match_simple_block(body, "raw", false, marker);
    // No trim_blocks after `{% raw %}`: Jinja2's raw_begin rule has no newline suffix.
    const std::size_t content = after_close(close + 2, marker, false);
    for (std::size_t tag = src_.find("{%", content); tag != std::string::npos; tag = src_.find("{%", tag + 1)) {
      const char open_marker = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      const bool has_marker = open_marker == '-' || open_marker == '+';
      char close_marker = '\0';
      const std::size_t end = match_simple_block(tag + 2 + (has_marker ? 1 : 0), "endraw", true, close_marker);
      if (end == std::string::npos) continue;
      std::string text = src_.substr(content, tag - content);
      strip_before_tag(text, content, true, open_marker);
      emit_text(std::move(text));
      return after_close(end + 2, close_marker, true);
    }
    error_at(body, "missing end of raw directive");
  }

  std::size_t lex_tag(bool block, std::size_t tag, std::size_t pos) {
    tokens_.push_back(Token{block ? TokenKind::BlockBegin : TokenKind::VariableBegin, "", position(tag)});
    const char close = block ? '%' : '}';
    int depth = 0;  // open brackets: a closing tag inside them is an operator, as in Jinja2
    while (true) {
      while (pos < src_.size() && is_ws(src_[pos])) ++pos;
      if (pos >= src_.size()) error_at(tag, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      if (depth == 0) {
        char marker = '\0';
        std::size_t at = pos;
        if ((src_[at] == '-' || (block && src_[at] == '+')) && at + 1 < src_.size() && src_[at + 1] == close) {
          marker = src_[at++];
        }
        if (src_[at] == close && at + 1 < src_.size() && src_[at + 1] == '}') {
          tokens_.push_back(Token{block ? TokenKind::BlockEnd : TokenKind::VariableEnd, "", position(pos)});
          return after_close(at + 2, marker, block);
        }
      }
      pos = lex_expression_token(pos, depth);
    }
  }

  std::size_t lex_expression_token(std::size_t pos, int& depth) {
    const char c = src_[pos];
    const SourcePos where = position(pos);
    if (is_name_start(c)) {
      std::size_t end = pos;
      while (end < src_.size() && is_name_char(src_[end])) ++end;
      tokens_.push_back(Token{TokenKind::Name, src_.substr(pos, end - pos), where});
      return end;
    }
    if (is_digit(c)) return lex_number(pos);
    if (c == '\'' || c == '"') return lex_string(pos);
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", "<=", ">="};
    for (std::string_view op : kTwoChar) {
      if (src_.compare(pos, 2, op) == 0) {
        tokens_.push_back(Token{TokenKind::Operator, std::string(op), where});
        return pos + 2;
      }
    }
    if (std::string_view("+-*/%~<>=.,:|()[]{};").find(c) == std::string_view::npos) {
      error_at(pos, str_cat("unexpected character '", c, "'"));
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    tokens_.push_back(Token{TokenKind::Operator, std::string(1, c), where});
    return pos + 1;
  }

  // Digits with optional `_` separators, starting at `pos`; returns the end and appends the digits.
  std::size_t read_digits(std::size_t pos, std::string& digits, int base) const {
    auto ok = [base](char ch) {
      if (base == 16) return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
      return ch >= '0' && ch < static_cast<char>('0' + base);
    };
    while (pos < src_.size()) {
      if (ok(src_[pos])) {
        digits.push_back(src_[pos++]);
      } else if (src_[pos] == '_' && pos + 1 < src_.size() && ok(src_[pos + 1]) && !digits.empty()) {
        ++pos;
      } else {
        break;
      }
    }
    return pos;
  }

  std::size_t lex_number(std::size_t pos) {
    const SourcePos where = position(pos);
    const bool after_dot = !tokens_.empty() && tokens_.back().kind == TokenKind::Operator && tokens_.back().text == ".";
    if (src_[pos] == '0' && pos + 1 < src_.size() && std::string_view("bBoOxX").find(src_[pos + 1]) != std::string_view::npos) {
      const char p = static_cast<char>(src_[pos + 1] | 0x20);
      const int base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
      std::string digits;
      const std::size_t end = read_digits(pos + 2, digits, base);
      if (digits.empty()) error_at(pos, "invalid integer literal");
      push_integer(digits, base, where, pos);
      return end;
    }
    std::string digits;
    std::size_t end = read_digits(pos, digits, 10);
    bool is_float = false;
    // `foo.0.1` is two subscripts, so a number right after `.` is an integer (Jinja2: (?<!\.)).
    if (!after_dot && end + 1 < src_.size() && src_[end] == '.' && is_digit(src_[end + 1])) {
      digits.push_back('.');
      end = read_digits(end + 1, digits, 10);
      is_float = true;
    }
    if (!after_dot && end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
      std::size_t e = end + 1;
      std::string exponent = "e";
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) exponent.push_back(src_[e++]);
      if (e < src_.size() && is_digit(src_[e])) {
        end = read_digits(e, exponent, 10);
        digits += exponent;
        is_float = true;
      }
    }
    if (is_float) {
      Token t{TokenKind::Float, digits, where};
      t.float_value = std::strtod(digits.c_str(), nullptr);
      tokens_.push_back(std::move(t));
    } else {
      push_integer(digits, 10, where, pos);
    }
    return end;
  }

  void push_integer(const std::string& digits, int base, SourcePos where, std::size_t pos) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(digits.c_str(), &end, base);
    if (errno == ERANGE) error_at(pos, "integer literal too large");
    Token t{TokenKind::Integer, digits, where};
    t.int_value = v;
    tokens_.push_back(std::move(t));
  }

  // Quoted string with Python's escapes (Jinja2 decodes literals with "unicode-escape").
  std::size_t lex_string(std::size_t pos) {
    const char quote = src_[pos];
    std::string value;
    std::size_t i = pos + 1;
    auto hex_escape = [&](int count) {
      if (i + static_cast<std::size_t>(count) > src_.size()) error_at(i, "truncated \\x, \\u or \\U escape");
      char32_t cp = 0;
      for (int k = 0; k < count; ++k) {
        const char h = src_[i + k];
        int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
        if (d < 0) error_at(i, "truncated \\x, \\u or \\U escape");
        cp = cp * 16 + static_cast<char32_t>(d);
      }
      if (cp > 0x10FFFF) error_at(i, "illegal Unicode character in escape");
      i += count;
      text::append_utf8(value, cp);
    };
    while (true) {
      if (i >= src_.size()) error_at(pos, "unterminated string literal");
      const char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        value.push_back(c);
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) error_at(pos, "unterminated string literal");
      const char e = src_[i + 1];
      i += 2;
      switch (e) {
        case 'n': value.push_back('\n'); break;
        case 't': value.push_back('\t'); break;
        case 'r': value.push_back('\r'); break;
        case 'a': value.push_back('\a'); break;
        case 'b': value.push_back('\b'); break;
        case 'f': value.push_back('\f'); break;
        case 'v': value.push_back('\v'); break;
        case '\\': value.push_back('\\'); break;
        case '\'': value.push_back('\''); break;
        case '"': value.push_back('"'); break;
        case '\n': break;  // line continuation
        case 'x': hex_escape(2); break;
        case 'u': hex_escape(4); break;
        case 'U': hex_escape(8); break;
        default:
          if (e >= '0' && e <= '7') {
            char32_t cp = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k) cp = cp * 8 + static_cast<char32_t>(src_[i++] - '0');
            text::append_utf8(value, cp);
          } else {
            value.push_back('\\');  // unknown escapes stay as written
            value.push_back(e);
          }
      }
    }
    tokens_.push_back(Token{TokenKind::String, std::move(value), position(pos)});
    return i + 1;
  }

  std::string src_;
  LexOptions options_;
  std::vector<std::size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

void syntax_error(SourcePos pos, std::string_view message) {
  fail("syntax error at line ", pos.line, ", column ", pos.column, ": ", message);
}

std::vector<Token> tokenize(std::string_view source, const LexOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace bamba::jinja

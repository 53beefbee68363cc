// Splits template source into text and tag tokens, applying Jinja's whitespace control
// (`-`/`+` markers, trim_blocks, lstrip_blocks), comments and raw blocks on the way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bamba::jinja {

struct SourcePos {
  int line = 1;
  int column = 1;
};

enum class TokenKind { Text, VariableBegin, VariableEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, End };

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;  // text, name, operator, or the decoded string literal
  SourcePos pos;
  std::int64_t int_value = 0;
  double float_value = 0;
};

struct LexOptions {
  bool trim_blocks = true;    // drop the first newline after a block or comment tag
  bool lstrip_blocks = true;  // drop spaces and tabs before a block or comment tag on its line
};

// Fails with bamba::Error ("syntax error at line L, column C: ...") on malformed input.
[[nodiscard]] std::vector<Token> tokenize(std::string_view source, const LexOptions& options);

// Throws the syntax error the lexer and parser report.
[[noreturn]] void syntax_error(SourcePos pos, std::string_view message);

}  // namespace bamba::jinja

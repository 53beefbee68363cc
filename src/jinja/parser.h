// Turns template source into a syntax tree (recursive descent over the lexer's tokens, with
// Jinja2's grammar and operator precedence).
#pragma once

#include <string_view>

#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace bamba::jinja {

// Fails with bamba::Error naming line and column on any syntax error, and on filters and tests
// that do not exist (unless inside an `{% if %}`, where Jinja2 defers that check to run time).
[[nodiscard]] ast::Body parse(std::string_view source, const LexOptions& options = {});

}  // namespace bamba::jinja

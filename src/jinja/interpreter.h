// Executes a parsed template against a context of variables, with Jinja's scoping rules
// (loop bodies and macros get their own scope; `if` does not) and per-render resource limits.
#pragma once

#include <string>

#include "jinja/ast.h"
#include "jinja/value.h"

namespace bamba::jinja {

// Renders `body` with the variables of `context` (on top of the globals). Fails with
// bamba::Error naming the template line on any runtime error; raise_exception's message is
// passed through unchanged.
[[nodiscard]] std::string render(const ast::Body& body, const Dict& context);

}  // namespace bamba::jinja

// A Jinja template parsed once and rendered many times, possibly from several threads at once.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace bamba::jinja {

class Template {
 public:
  // Throws bamba::Error ("syntax error at line L, column C: ...") if the source does not parse.
  // The defaults are Hugging Face's environment: trim_blocks and lstrip_blocks on.
  explicit Template(std::string_view source, const LexOptions& options = {});

  // Renders with the members of `context` (a JSON object, or null) as variables. Throws
  // bamba::Error on runtime errors; never lets another exception type escape.
  [[nodiscard]] std::string render(const nlohmann::ordered_json& context) const;

 private:
  ast::Body body_;
};

}  // namespace bamba::jinja

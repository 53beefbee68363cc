// Template: parse on construction, convert the JSON context and interpret on render.
#include "jinja/template.h"

#include <exception>
#include <new>

#include "base/error.h"
#include "jinja/interpreter.h"
#include "jinja/parser.h"

namespace bamba::jinja {

Template::Template(std::string_view source, const LexOptions& options) : body_(parse(source, options)) {}

std::string Template::render(const nlohmann::ordered_json& context) const {
  if (!context.is_null() && !context.is_object()) fail("template context must be a JSON object");
  try {
    Dict variables;
    if (context.is_object()) {
      for (const auto& [key, value] : context.items()) variables.set(Value(key), Value::from_json(value));
    }
    return jinja::render(body_, variables);
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    fail("template render ran out of memory");
  } catch (const std::exception& e) {
    fail("template render failed: ", e.what());
  }
}

}  // namespace bamba::jinja

// Shared by the engine's unit tests: render a template string with a JSON context.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "jinja/template.h"

namespace bamba::jinja::testing {

inline std::string render(std::string_view source, const nlohmann::ordered_json& context = nullptr) {
  return Template(source).render(context);
}

}  // namespace bamba::jinja::testing

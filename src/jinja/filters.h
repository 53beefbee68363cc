// Jinja's filters: the `value | name(args)` functions (trim, tojson, map, selectattr, ...).
#pragma once

#include <string_view>

#include "jinja/value.h"

namespace bamba::jinja {

[[nodiscard]] bool has_filter(std::string_view name);
// Fails with bamba::Error for an unknown filter or bad arguments.
[[nodiscard]] Value apply_filter(std::string_view name, const Value& input, Args& args);

}  // namespace bamba::jinja

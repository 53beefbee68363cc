// Jinja's tests: the right-hand side of `value is name(args)` (defined, none, string, ...).
#pragma once

#include <string_view>

#include "jinja/value.h"

namespace bamba::jinja {

[[nodiscard]] bool has_test(std::string_view name);
// Fails with bamba::Error for an unknown test or bad arguments.
[[nodiscard]] bool apply_test(std::string_view name, const Value& input, const Args& args);

}  // namespace bamba::jinja

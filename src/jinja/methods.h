// Attribute and item access (`x.name`, `x[key]`, `x[a:b:c]`) with Jinja's lookup order, and the
// Python methods of str and dict that chat templates call (`s.strip()`, `d.items()`, ...).
#pragma once

#include <optional>
#include <string_view>

#include "jinja/value.h"

namespace bamba::jinja {

// Jinja's getattr: a method of the object first, then an item of that name; else Undefined.
[[nodiscard]] Value get_attr(const Value& object, std::string_view name);
// Jinja's getitem: an item first, then (for string keys) a method; else Undefined.
[[nodiscard]] Value get_item(const Value& object, const Value& key);
// Python slicing of str and list; absent bounds are Undefined or None.
[[nodiscard]] Value slice(const Value& object, const Value& start, const Value& stop, const Value& step);
// Calls object.name(args) if `name` is a method of the object's type; nullopt if it is not.
[[nodiscard]] std::optional<Value> call_method(const Value& object, std::string_view name, Args& args);

}  // namespace bamba::jinja

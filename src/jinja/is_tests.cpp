// The tests of jinja2/tests.py, with Python's type model (bool is a number, Undefined iterates).
#include "jinja/is_tests.h"

#include <string>
#include <unordered_map>

#include "base/error.h"
#include "jinja/text.h"

namespace bamba::jinja {

namespace {

using K = Value::Kind;
using TestFn = bool (*)(const Value&, const Args&);

const Value& only_arg(std::string_view test, const Args& args) {
  if (args.positional.size() != 1 || !args.named.empty()) fail("test '", test, "' takes exactly one argument");
  return args.positional[0];
}

bool is_lower(const Value& v, const Args&) {
  if (!v.is_string()) return false;
  const std::string& s = v.as_string();
  return text::to_lower(s) == s && text::to_upper(s) != s;
}

bool is_upper(const Value& v, const Args&) {
  if (!v.is_string()) return false;
  const std::string& s = v.as_string();
  return text::to_upper(s) == s && text::to_lower(s) != s;
}

std::int64_t int_of(const Value& v, std::string_view test) {
  if (v.kind() != K::Int && v.kind() != K::Bool) fail("test '", test, "' needs an integer, got ", v.type_name());
  return v.as_int();
}

const std::unordered_map<std::string_view, TestFn>& registry() {
  static const std::unordered_map<std::string_view, TestFn> tests = {
      {"defined", [](const Value& v, const Args&) { return !v.is_undefined(); }},
      {"undefined", [](const Value& v, const Args&) { return v.is_undefined(); }},
      {"none", [](const Value& v, const Args&) { return v.is_none(); }},
      {"boolean", [](const Value& v, const Args&) { return v.kind() == K::Bool; }},
      {"true", [](const Value& v, const Args&) { return v.kind() == K::Bool && v.as_bool(); }},
      {"false", [](const Value& v, const Args&) { return v.kind() == K::Bool && !v.as_bool(); }},
      {"string", [](const Value& v, const Args&) { return v.is_string(); }},
      {"number", [](const Value& v, const Args&) { return v.is_number(); }},
      {"integer", [](const Value& v, const Args&) { return v.kind() == K::Int; }},
      {"float", [](const Value& v, const Args&) { return v.kind() == K::Float; }},
      {"mapping", [](const Value& v, const Args&) { return v.is_dict(); }},
      {"iterable", [](const Value& v, const Args&) {
         return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
       }},
      {"sequence", [](const Value& v, const Args&) { return v.is_string() || v.is_list() || v.is_dict(); }},
      {"callable", [](const Value& v, const Args&) { return v.kind() == K::Callable; }},
      {"even", [](const Value& v, const Args&) { return int_of(v, "even") % 2 == 0; }},
      {"odd", [](const Value& v, const Args&) { return int_of(v, "odd") % 2 != 0; }},
      {"divisibleby", [](const Value& v, const Args& a) {
         const std::int64_t d = int_of(only_arg("divisibleby", a), "divisibleby");
         if (d == 0) fail("integer division or modulo by zero");
         return int_of(v, "divisibleby") % d == 0;
       }},
      {"lower", is_lower},
      {"upper", is_upper},
      {"escaped", [](const Value&, const Args&) { return false; }},
      {"sameas", [](const Value& v, const Args& a) {
         const Value& other = only_arg("sameas", a);
         // Identity holds for the singletons and for the same shared object.
         if (v.kind() != other.kind()) return false;
         if (v.is_undefined() || v.is_none() || v.kind() == K::Bool) return equals(v, other);
         if (v.kind() == K::Namespace) return v.namespace_ptr() == other.namespace_ptr();
         return false;
       }},
      {"in", [](const Value& v, const Args& a) { return contains(only_arg("in", a), v); }},
      {"eq", [](const Value& v, const Args& a) { return equals(v, only_arg("eq", a)); }},
      {"ne", [](const Value& v, const Args& a) { return !equals(v, only_arg("ne", a)); }},
      {"lt", [](const Value& v, const Args& a) { return less(v, only_arg("lt", a)); }},
      {"le", [](const Value& v, const Args& a) { return !less(only_arg("le", a), v); }},
      {"gt", [](const Value& v, const Args& a) { return less(only_arg("gt", a), v); }},
      {"ge", [](const Value& v, const Args& a) { return !less(v, only_arg("ge", a)); }},
  };
  return tests;
}

// Jinja2's aliases for the comparison tests.
std::string_view canonical(std::string_view name) {
  static const std::unordered_map<std::string_view, std::string_view> aliases = {
      {"equalto", "eq"}, {"==", "eq"}, {"!=", "ne"}, {"lessthan", "lt"}, {"<", "lt"}, {"<=", "le"},
      {"greaterthan", "gt"}, {">", "gt"}, {">=", "ge"}};
  const auto it = aliases.find(name);
  return it == aliases.end() ? name : it->second;
}

}  // namespace

bool has_test(std::string_view name) { return registry().count(canonical(name)) != 0; }

bool apply_test(std::string_view name, const Value& input, const Args& args) {
  const auto it = registry().find(canonical(name));
  if (it == registry().end()) fail("no test named '", name, "'");
  return it->second(input, args);
}

}  // namespace bamba::jinja

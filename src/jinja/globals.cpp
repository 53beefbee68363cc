// Global functions of the template environment, as Jinja2 and transformers define them.
#include "jinja/globals.h"

#include <ctime>

namespace bamba::jinja {

namespace {

std::int64_t int_arg(const Value& v) {
  if (v.kind() != Value::Kind::Int && v.kind() != Value::Kind::Bool) fail("range: '", v.type_name(), "' object cannot be interpreted as an integer");
  return v.as_int();
}

Value range(Args& args) {
  if (!args.named.empty()) fail("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) fail("range expected 1 to 3 arguments, got ", p.size());
  const std::int64_t start = p.size() == 1 ? 0 : int_arg(p[0]);
  const std::int64_t stop = int_arg(p.size() == 1 ? p[0] : p[1]);
  const std::int64_t step = p.size() == 3 ? int_arg(p[2]) : 1;
  if (step == 0) fail("range() arg 3 must not be zero");
  // Count in floating point first so that huge bounds cannot overflow.
  const double span = (static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step);
  check_list_size(span > 0 ? static_cast<std::size_t>(span) : 0);
  List items;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop;) {
    items.emplace_back(i);
    if (__builtin_add_overflow(i, step, &i)) break;
  }
  return Value(std::move(items));
}

// dict(mapping, **kwargs) and namespace(mapping, **kwargs) take the same arguments.
Dict mapping_args(const char* callee, const Args& args) {
  if (args.positional.size() > 1) fail(callee, "() takes at most 1 positional argument");
  Dict d;
  if (!args.positional.empty()) {
    const Value& m = args.positional[0];
    if (!m.is_dict()) fail(callee, "(): expected a mapping, got ", m.type_name());
    d = m.as_dict();
  }
  for (const auto& [name, value] : args.named) d.set(Value(name), value);
  return d;
}

Value strftime_now(Args& args) {
  const auto a = bind_args("strftime_now", args, {"format"}, 1);
  if (!a[0].is_string()) fail("strftime_now: format must be a string");
  const std::string& fmt = a[0].as_string();
  if (fmt.size() > 256) fail("strftime_now: format too long");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  if (fmt.empty()) return Value("");
  std::string buf(64 + fmt.size() * 32, '\0');
  const std::size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &local);
  buf.resize(n);
  return Value(std::move(buf));
}

}  // namespace

std::vector<std::pair<std::string, Value>> make_globals(std::vector<std::shared_ptr<Dict>>& namespaces) {
  std::vector<std::pair<std::string, Value>> globals;
  globals.emplace_back("range", Value::callable("range", range));
  globals.emplace_back("dict", Value::callable("dict", [](Args& args) { return Value(mapping_args("dict", args)); }));
  globals.emplace_back("namespace", Value::callable("namespace", [&namespaces](Args& args) {
                         Value ns = Value::make_namespace(mapping_args("namespace", args));
                         namespaces.push_back(ns.namespace_ptr());
                         return ns;
                       }));
  globals.emplace_back("raise_exception", Value::callable("raise_exception", [](Args& args) -> Value {
                         const auto a = bind_args("raise_exception", args, {"message"}, 1);
                         throw RaisedException(a[0].str());
                       }));
  globals.emplace_back("strftime_now", Value::callable("strftime_now", strftime_now));
  return globals;
}

}  // namespace bamba::jinja

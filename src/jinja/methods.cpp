// Python str and dict methods, and Python indexing and slicing semantics (code points for str).
#include "jinja/methods.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "base/error.h"
#include "jinja/text.h"

namespace bamba::jinja {

namespace {

using K = Value::Kind;
using Method = Value (*)(const Value& self, Args& args);

std::optional<std::string_view> opt_string(std::string_view method, const Value& v) {
  if (v.is_undefined() || v.is_none()) return std::nullopt;
  if (!v.is_string()) fail(method, "() argument must be str or None, not ", v.type_name());
  return std::string_view(v.as_string());
}

const std::string& need_string(std::string_view method, const Value& v) {
  if (!v.is_string()) fail(method, "() argument must be str, not ", v.type_name());
  return v.as_string();
}

long long opt_int(std::string_view method, const Value& v, long long fallback) {
  if (v.is_undefined() || v.is_none()) return fallback;
  if (v.kind() != K::Int && v.kind() != K::Bool) fail(method, "() argument must be int, not ", v.type_name());
  return v.as_int();
}

Value strip_method(const Value& self, Args& args, std::string_view name, bool left, bool right) {
  const auto a = bind_args(name, args, {"chars"});
  return Value(text::strip(self.as_string(), left, right, opt_string(name, a[0])));
}

// startswith/endswith accept one prefix or a tuple (list) of them.
Value affix_method(const Value& self, Args& args, std::string_view name, bool prefix) {
  const auto a = bind_args(name, args, {"affix"}, 1);
  const std::string& s = self.as_string();
  auto matches = [&](const Value& affix) {
    const std::string& x = need_string(name, affix);
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (a[0].is_list()) {
    for (const Value& item : a[0].as_list()) {
      if (matches(item)) return Value(true);
    }
    return Value(false);
  }
  return Value(matches(a[0]));
}

Value find_substring(const Value& self, Args& args, std::string_view name, bool from_right) {
  const auto a = bind_args(name, args, {"sub"}, 1);
  const std::string& s = self.as_string();
  const std::string& sub = need_string(name, a[0]);
  const std::size_t at = from_right ? s.rfind(sub) : s.find(sub);
  if (at == std::string::npos) return Value(-1);
  return Value(static_cast<std::int64_t>(text::length(std::string_view(s).substr(0, at))));
}

bool all_chars(const std::string& s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

// Python's str.title(): upper-case the first cased character of every run of letters.
std::string py_title(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    const bool lower = c >= 'a' && c <= 'z';
    const bool upper = c >= 'A' && c <= 'Z';
    if (lower && !prev_cased) c = static_cast<char>(c - 'a' + 'A');
    else if (upper && prev_cased) c = static_cast<char>(c - 'A' + 'a');
    prev_cased = lower || upper;
  }
  return out;
}

// str.format with `{}`, `{0}`, `{name}`, `{{` and `}}`; format specs are not supported.
Value format_method(const Value& self, Args& args) {
  const std::string& fmt = self.as_string();
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if ((c == '{' || c == '}') && i + 1 < fmt.size() && fmt[i + 1] == c) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '}') fail("single '}' encountered in format string");
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    const std::size_t close = fmt.find('}', i);
    if (close == std::string::npos) fail("single '{' encountered in format string");
    const std::string field = fmt.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!") != std::string::npos) fail("format specs are not supported in str.format");
    const Value* value = nullptr;
    if (field.empty() || (field[0] >= '0' && field[0] <= '9')) {
      std::size_t index = auto_index++;
      if (!field.empty()) {
        index = 0;
        for (char d : field) {
          if (d < '0' || d > '9' || index > 1000000) fail("invalid field '", field, "' in format string");
          index = index * 10 + static_cast<std::size_t>(d - '0');
        }
      }
      if (index >= args.positional.size()) fail("Replacement index ", index, " out of range for positional args tuple");
      value = &args.positional[index];
    } else {
      for (const auto& [name, v] : args.named) {
        if (name == field) value = &v;
      }
      if (value == nullptr) fail("KeyError: '", field, "'");
    }
    out += value->str();
    check_string_size(out.size());
    i = close;
  }
  return Value(std::move(out));
}

Value join_method(const Value& self, Args& args) {
  const auto a = bind_args("join", args, {"iterable"}, 1);
  std::string out;
  bool first = true;
  for (const Value& item : iterate(a[0])) {
    if (!first) out += self.as_string();
    first = false;
    out += need_string("join", item);
    check_string_size(out.size());
  }
  return Value(std::move(out));
}

const std::unordered_map<std::string_view, Method>& string_methods() {
  static const std::unordered_map<std::string_view, Method> methods = {
      {"strip", [](const Value& s, Args& a) { return strip_method(s, a, "strip", true, true); }},
      {"lstrip", [](const Value& s, Args& a) { return strip_method(s, a, "lstrip", true, false); }},
      {"rstrip", [](const Value& s, Args& a) { return strip_method(s, a, "rstrip", false, true); }},
      {"startswith", [](const Value& s, Args& a) { return affix_method(s, a, "startswith", true); }},
      {"endswith", [](const Value& s, Args& a) { return affix_method(s, a, "endswith", false); }},
      {"find", [](const Value& s, Args& a) { return find_substring(s, a, "find", false); }},
      {"rfind", [](const Value& s, Args& a) { return find_substring(s, a, "rfind", true); }},
      {"upper", [](const Value& s, Args& a) { (void)bind_args("upper", a, {}); return Value(text::to_upper(s.as_string())); }},
      {"lower", [](const Value& s, Args& a) { (void)bind_args("lower", a, {}); return Value(text::to_lower(s.as_string())); }},
      {"title", [](const Value& s, Args& a) { (void)bind_args("title", a, {}); return Value(py_title(s.as_string())); }},
      {"capitalize", [](const Value& s, Args& a) {
         (void)bind_args("capitalize", a, {});
         std::string out = text::to_lower(s.as_string());
         if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
         return Value(std::move(out));
       }},
      {"split", [](const Value& s, Args& a) {
         const auto b = bind_args("split", a, {"sep", "maxsplit"});
         List parts;
         for (auto& p : text::split(s.as_string(), opt_string("split", b[0]), opt_int("split", b[1], -1))) parts.emplace_back(std::move(p));
         return Value(std::move(parts));
       }},
      {"splitlines", [](const Value& s, Args& a) {
         (void)bind_args("splitlines", a, {});
         List lines;
         for (auto& l : text::splitlines(s.as_string())) lines.emplace_back(std::move(l));
         return Value(std::move(lines));
       }},
      {"replace", [](const Value& s, Args& a) {
         const auto b = bind_args("replace", a, {"old", "new", "count"}, 2);
         std::string out = text::replace(s.as_string(), need_string("replace", b[0]), need_string("replace", b[1]),
                                         opt_int("replace", b[2], -1));
         check_string_size(out.size());
         return Value(std::move(out));
       }},
      {"count", [](const Value& s, Args& a) {
         const auto b = bind_args("count", a, {"sub"}, 1);
         const std::string& sub = need_string("count", b[0]);
         if (sub.empty()) return Value(static_cast<std::int64_t>(text::length(s.as_string()) + 1));
         std::int64_t n = 0;
         for (std::size_t at = s.as_string().find(sub); at != std::string::npos; at = s.as_string().find(sub, at + sub.size())) ++n;
         return Value(n);
       }},
      {"join", join_method},
      {"format", format_method},
      {"isdigit", [](const Value& s, Args& a) { (void)bind_args("isdigit", a, {}); return Value(all_chars(s.as_string(), [](char c) { return c >= '0' && c <= '9'; })); }},
      {"isalpha", [](const Value& s, Args& a) {
         (void)bind_args("isalpha", a, {});
         return Value(all_chars(s.as_string(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }));
       }},
      {"isalnum", [](const Value& s, Args& a) {
         (void)bind_args("isalnum", a, {});
         return Value(all_chars(s.as_string(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }));
       }},
      {"isspace", [](const Value& s, Args& a) {
         (void)bind_args("isspace", a, {});
         const std::u32string cps = text::decode(s.as_string());
         bool all = !cps.empty();
         for (char32_t c : cps) all = all && text::is_space(c);
         return Value(all);
       }},
  };
  return methods;
}

const std::unordered_map<std::string_view, Method>& dict_methods() {
  static const std::unordered_map<std::string_view, Method> methods = {
      {"items", [](const Value& d, Args& a) {
         (void)bind_args("items", a, {});
         List items;
         for (const auto& [k, v] : d.as_dict().entries()) items.push_back(Value::tuple(List{k, v}));
         return Value(std::move(items));
       }},
      {"keys", [](const Value& d, Args& a) {
         (void)bind_args("keys", a, {});
         return Value(iterate(d));
       }},
      {"values", [](const Value& d, Args& a) {
         (void)bind_args("values", a, {});
         List values;
         for (const auto& entry : d.as_dict().entries()) values.push_back(entry.second);
         return Value(std::move(values));
       }},
      {"get", [](const Value& d, Args& a) {
         const auto b = bind_args("get", a, {"key", "default"}, 1);
         const Value* found = d.as_dict().find(b[0]);
         if (found != nullptr) return *found;
         return b[1].is_undefined() ? Value::none() : b[1];
       }},
  };
  return methods;
}

Method method_of(const Value& object, std::string_view name) {
  const std::unordered_map<std::string_view, Method>* table = nullptr;
  if (object.is_string()) table = &string_methods();
  else if (object.is_dict()) table = &dict_methods();
  if (table == nullptr) return nullptr;
  const auto it = table->find(name);
  return it == table->end() ? nullptr : it->second;
}

// Python's slice.indices(): clamps start/stop for a sequence of `size` items.
struct SliceRange {
  long long start, stop, step;
};

SliceRange resolve_slice(const Value& start, const Value& stop, const Value& step, long long size) {
  const long long st = opt_int("slice", step, 1);
  if (st == 0) fail("slice step cannot be zero");
  auto clamp = [&](const Value& v, long long fallback) {
    if (v.is_undefined() || v.is_none()) return fallback;
    long long i = opt_int("slice", v, 0);
    if (i < 0) i += size;
    if (st > 0) return std::clamp(i, 0LL, size);
    return std::clamp(i, -1LL, size - 1);
  };
  return {clamp(start, st > 0 ? 0 : size - 1), clamp(stop, st > 0 ? size : -1), st};
}

template <class Seq>
Seq take_slice(const Seq& seq, const SliceRange& r) {
  Seq out;
  for (long long i = r.start; r.step > 0 ? i < r.stop : i > r.stop;) {
    out.push_back(seq[static_cast<std::size_t>(i)]);
    if (__builtin_add_overflow(i, r.step, &i)) break;
  }
  return out;
}

}  // namespace

Value get_attr(const Value& object, std::string_view name) {
  if (Method m = method_of(object, name)) {
    return Value::callable(std::string(name), [object, m](Args& args) { return m(object, args); });
  }
  if (object.is_dict() || object.kind() == K::Namespace) {
    const Value* found = object.as_dict().find(name);
    if (found != nullptr) return *found;
  }
  return Value();
}

Value get_item(const Value& object, const Value& key) {
  const bool int_key = key.kind() == K::Int || key.kind() == K::Bool;
  if (object.is_list() && int_key) {
    const List& list = object.as_list();
    std::int64_t i = key.as_int();
    if (i < 0) i += static_cast<std::int64_t>(list.size());
    if (i < 0 || i >= static_cast<std::int64_t>(list.size())) return Value();
    return list[static_cast<std::size_t>(i)];
  }
  if (object.is_string() && int_key) {
    const std::u32string cps = text::decode(object.as_string());
    std::int64_t i = key.as_int();
    if (i < 0) i += static_cast<std::int64_t>(cps.size());
    if (i < 0 || i >= static_cast<std::int64_t>(cps.size())) return Value();
    return Value(text::encode(std::u32string_view(cps).substr(static_cast<std::size_t>(i), 1)));
  }
  if (object.is_dict() || object.kind() == K::Namespace) {
    const Value* found = object.as_dict().find(key);
    if (found != nullptr) return *found;
  }
  if (key.is_string()) return get_attr(object, key.as_string());
  return Value();
}

Value slice(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (object.is_list()) {
    const List& list = object.as_list();
    return Value(take_slice(list, resolve_slice(start, stop, step, static_cast<long long>(list.size()))));
  }
  if (object.is_string()) {
    const std::u32string cps = text::decode(object.as_string());
    return Value(text::encode(take_slice(cps, resolve_slice(start, stop, step, static_cast<long long>(cps.size())))));
  }
  if (object.is_undefined()) return Value();
  fail("'", object.type_name(), "' object is not subscriptable");
}

std::optional<Value> call_method(const Value& object, std::string_view name, Args& args) {
  Method m = method_of(object, name);
  if (m == nullptr) return std::nullopt;
  return m(object, args);
}

}  // namespace bamba::jinja

// The filters of jinja2/filters.py that chat templates use, with Python semantics; `tojson` is
// Hugging Face's override (json.dumps with ensure_ascii=False, no HTML escaping).
#include "jinja/filters.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/error.h"
#include "jinja/is_tests.h"
#include "jinja/methods.h"
#include "jinja/text.h"

namespace bamba::jinja {

namespace {

using K = Value::Kind;
using FilterFn = Value (*)(const Value& input, Args& args);

bool given(const Value& v) { return !v.is_undefined(); }

std::int64_t int_arg(std::string_view filter, const Value& v, std::int64_t fallback) {
  if (!given(v) || v.is_none()) return fallback;
  if (v.kind() != K::Int && v.kind() != K::Bool) fail(filter, ": expected an integer argument, got ", v.type_name());
  return v.as_int();
}

const std::string& string_arg(std::string_view filter, const Value& v) {
  if (!v.is_string()) fail(filter, ": expected a string argument, got ", v.type_name());
  return v.as_string();
}

// Jinja's make_attrgetter: "a.b.0" looks up items (then attributes) along the dotted path.
Value lookup_path(const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return get_item(item, attribute);
  Value v = item;
  const std::string& path = attribute.as_string();
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    v = numeric && part.size() < 18 ? get_item(v, Value(static_cast<std::int64_t>(std::stoll(part)))) : get_item(v, Value(part));
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

// Sort key for the filters with case_sensitive=False: strings compare lower-cased.
Value fold_case(const Value& v, bool case_sensitive) {
  if (case_sensitive || !v.is_string()) return v;
  return Value(text::to_lower(v.as_string()));
}

// Arguments after the first `skip` positional ones, as passed on to another filter or test.
Args rest_args(const Args& args, std::size_t skip) {
  Args rest;
  if (args.positional.size() > skip) rest.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(skip), args.positional.end());
  rest.named = args.named;
  return rest;
}

// --- tojson: Python's json.dumps ---------------------------------------------------------------

struct JsonStyle {
  bool pretty = false;
  std::string indent;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool ensure_ascii = false;
  bool sort_keys = false;
};

void dump_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto u_escape = [&](unsigned cp) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 0xF]);
  };
  out.push_back('"');
  for (char32_t c : text::decode(s)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          u_escape(c);
        } else if (ensure_ascii && c >= 0x80) {
          if (c >= 0x10000) {
            u_escape(0xD800 + ((c - 0x10000) >> 10));
            u_escape(0xDC00 + ((c - 0x10000) & 0x3FF));
          } else {
            u_escape(c);
          }
        } else {
          text::append_utf8(out, c);
        }
    }
  }
  out.push_back('"');
}

std::string json_number(const Value& v) {
  if (v.kind() == K::Bool) return v.as_bool() ? "true" : "false";
  if (v.kind() == K::Int) return std::to_string(v.as_int());
  const double d = v.as_float();
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return text::format_float(d);
}

void dump_json(std::string& out, const Value& v, const JsonStyle& style, int depth) {
  if (depth > kMaxValueDepth) fail("tojson: value nested deeper than ", kMaxValueDepth, " levels");
  check_string_size(out.size());
  auto newline = [&](int level) {
    if (!style.pretty) return;
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += style.indent;
  };
  switch (v.kind()) {
    case K::None:
      out += "null";
      return;
    case K::Bool:
    case K::Int:
    case K::Float:
      out += json_number(v);
      return;
    case K::String:
      dump_json_string(out, v.as_string(), style.ensure_ascii);
      return;
    case K::List: {
      const List& items = v.as_list();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += style.item_separator;
        newline(depth + 1);
        dump_json(out, items[i], style, depth + 1);
      }
      newline(depth);
      out.push_back(']');
      return;
    }
    case K::Dict: {
      std::vector<const Dict::Entry*> entries;
      for (const auto& entry : v.as_dict().entries()) entries.push_back(&entry);
      if (entries.empty()) {
        out += "{}";
        return;
      }
      if (style.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(), [](const Dict::Entry* a, const Dict::Entry* b) { return less(a->first, b->first); });
      }
      out.push_back('{');
      bool first = true;
      for (const Dict::Entry* entry : entries) {
        if (!first) out += style.item_separator;
        first = false;
        newline(depth + 1);
        const Value& key = entry->first;
        if (key.is_string()) dump_json_string(out, key.as_string(), style.ensure_ascii);
        else if (key.is_number()) out += '"' + json_number(key) + '"';
        else if (key.is_none()) out += "\"null\"";
        else fail("tojson: keys must be str, int, float, bool or None, not ", key.type_name());
        out += style.key_separator;
        dump_json(out, entry->second, style, depth + 1);
      }
      newline(depth);
      out.push_back('}');
      return;
    }
    default:
      fail("Object of type ", v.type_name(), " is not JSON serializable");
  }
}

Value tojson(const Value& input, Args& args) {
  // HF's signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
  const auto a = bind_args("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle style;
  style.ensure_ascii = a[0].truthy();
  if (given(a[1]) && !a[1].is_none()) {
    style.pretty = true;
    style.item_separator = ",";
    if (a[1].is_string()) style.indent = a[1].as_string();
    else style.indent.assign(static_cast<std::size_t>(std::clamp<std::int64_t>(int_arg("tojson", a[1], 0), 0, 64)), ' ');
  }
  if (given(a[2]) && !a[2].is_none()) {
    if (!a[2].is_list() || a[2].as_list().size() != 2) fail("tojson: separators must be a pair of strings");
    style.item_separator = string_arg("tojson", a[2].as_list()[0]);
    style.key_separator = string_arg("tojson", a[2].as_list()[1]);
  }
  style.sort_keys = a[3].truthy();
  std::string out;
  dump_json(out, input, style, 0);
  return Value(std::move(out));
}

// --- string filters ----------------------------------------------------------------------------

Value trim(const Value& input, Args& args) {
  const auto a = bind_args("trim", args, {"chars"});
  if (given(a[0]) && !a[0].is_none()) return Value(text::strip(input.str(), true, true, string_arg("trim", a[0])));
  return Value(text::strip(input.str(), true, true));
}

// Jinja's title filter capitalizes words split on whitespace, dashes and opening brackets.
Value title(const Value& input, Args& args) {
  (void)bind_args("title", args, {});
  std::string s = input.str();
  bool word_start = true;
  for (char& c : s) {
    const bool boundary = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '-' ||
                          c == '(' || c == '{' || c == '[' || c == '<';
    if (boundary) {
      word_start = true;
      continue;
    }
    if (word_start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    else if (!word_start && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    word_start = false;
  }
  return Value(std::move(s));
}

Value capitalize(const Value& input, Args& args) {
  (void)bind_args("capitalize", args, {});
  std::string s = text::to_lower(input.str());
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return Value(std::move(s));
}

Value replace(const Value& input, Args& args) {
  const auto a = bind_args("replace", args, {"old", "new", "count"}, 2);
  std::string out = text::replace(input.str(), a[0].str(), a[1].str(), int_arg("replace", a[2], -1));
  check_string_size(out.size());
  return Value(std::move(out));
}

Value escape(const Value& input, Args& args) {
  (void)bind_args("escape", args, {});
  std::string out;
  for (char c : input.str()) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return Value(std::move(out));
}

Value indent(const Value& input, Args& args) {
  const auto a = bind_args("indent", args, {"width", "first", "blank"});
  std::string prefix = a[0].is_string() ? a[0].as_string()
                                        : std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(int_arg("indent", a[0], 4), 0, 1024)), ' ');
  // Jinja appends a newline first so that splitlines() keeps a trailing empty line.
  const std::vector<std::string> lines = text::splitlines(input.str() + "\n");
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out.push_back('\n');
      if (a[2].truthy() || !lines[i].empty()) out += prefix;
    }
    out += lines[i];
    check_string_size(out.size());
  }
  if (a[1].truthy()) out = prefix + out;
  return Value(std::move(out));
}

Value center(const Value& input, Args& args) {
  const auto a = bind_args("center", args, {"width"});
  const std::string s = input.str();
  const std::int64_t width = std::min<std::int64_t>(int_arg("center", a[0], 80), static_cast<std::int64_t>(kMaxStringBytes));
  const auto len = static_cast<std::int64_t>(text::length(s));
  if (width <= len) return Value(s);
  const std::int64_t pad = width - len;
  // Python puts the extra space on the left when both the padding and the width are odd.
  const std::int64_t left = pad / 2 + (pad & width & 1);
  return Value(std::string(static_cast<std::size_t>(left), ' ') + s + std::string(static_cast<std::size_t>(pad - left), ' '));
}

Value wordcount(const Value& input, Args& args) {
  (void)bind_args("wordcount", args, {});
  std::int64_t words = 0;
  bool in_word = false;
  for (char c : input.str()) {
    const auto u = static_cast<unsigned char>(c);
    const bool word = u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (word && !in_word) ++words;
    in_word = word;
  }
  return Value(words);
}

// --- conversions -------------------------------------------------------------------------------

Value to_int(const Value& input, Args& args) {
  const auto a = bind_args("int", args, {"default", "base"});
  const Value fallback = given(a[0]) ? a[0] : Value(0);
  switch (input.kind()) {
    case K::Int:
      return input;
    case K::Bool:
      return Value(input.as_int());
    case K::Float: {
      const double d = std::trunc(input.as_float());
      if (!std::isfinite(d) || std::fabs(d) > 9.2e18) fail("int: cannot convert ", input.repr(), " to integer");
      return Value(static_cast<std::int64_t>(d));
    }
    case K::String: {
      std::string s = text::strip(input.as_string(), true, true);
      s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
      if (s.empty()) return fallback;
      const int base = static_cast<int>(int_arg("int", a[1], 10));
      char* end = nullptr;
      errno = 0;
      const long long i = std::strtoll(s.c_str(), &end, base);
      if (*end == '\0' && errno == 0) return Value(static_cast<std::int64_t>(i));
      const double d = std::strtod(s.c_str(), &end);
      if (*end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value(static_cast<std::int64_t>(std::trunc(d)));
      return fallback;
    }
    default:
      return fallback;
  }
}

Value to_float(const Value& input, Args& args) {
  const auto a = bind_args("float", args, {"default"});
  if (input.is_number()) return Value(input.as_float());
  if (input.is_string()) {
    const std::string s = text::strip(input.as_string(), true, true);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == '\0') return Value(d);
  }
  return given(a[0]) ? a[0] : Value(0.0);
}

Value round_filter(const Value& input, Args& args) {
  const auto a = bind_args("round", args, {"precision", "method"});
  if (!input.is_number()) fail("round: expected a number, got ", input.type_name());
  const std::int64_t precision = std::clamp<std::int64_t>(int_arg("round", a[0], 0), -300, 300);
  const std::string method = given(a[1]) ? string_arg("round", a[1]) : "common";
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = input.as_float() * scale;
  double r;
  if (method == "common") r = std::nearbyint(x);  // Python's round(): halves go to even
  else if (method == "ceil") r = std::ceil(x);
  else if (method == "floor") r = std::floor(x);
  else fail("round: method must be 'common', 'ceil' or 'floor'");
  return Value(r / scale);
}

Value abs_filter(const Value& input, Args& args) {
  (void)bind_args("abs", args, {});
  if (input.kind() == K::Float) return Value(std::fabs(input.as_float()));
  if (input.kind() == K::Int || input.kind() == K::Bool) {
    if (input.as_int() == INT64_MIN) fail("abs: integer overflow");
    return Value(std::abs(input.as_int()));
  }
  fail("bad operand type for abs(): '", input.type_name(), "'");
}

// --- sequences ---------------------------------------------------------------------------------

Value length(const Value& input, Args& args) {
  (void)bind_args("length", args, {});
  switch (input.kind()) {
    case K::Undefined: return Value(0);
    case K::String: return Value(static_cast<std::int64_t>(text::length(input.as_string())));
    case K::List: return Value(static_cast<std::int64_t>(input.as_list().size()));
    case K::Dict:
    case K::Namespace: return Value(static_cast<std::int64_t>(input.as_dict().size()));
    default: fail("object of type '", input.type_name(), "' has no len()");
  }
}

Value first(const Value& input, Args& args) {
  (void)bind_args("first", args, {});
  const List items = iterate(input);
  return items.empty() ? Value() : items.front();
}

Value last(const Value& input, Args& args) {
  (void)bind_args("last", args, {});
  const List items = iterate(input);
  return items.empty() ? Value() : items.back();
}

Value join(const Value& input, Args& args) {
  const auto a = bind_args("join", args, {"d", "attribute"});
  const std::string sep = given(a[0]) ? a[0].str() : "";
  std::string out;
  bool first_item = true;
  for (const Value& item : iterate(input)) {
    if (!first_item) out += sep;
    first_item = false;
    out += (given(a[1]) ? lookup_path(item, a[1]) : item).str();
    check_string_size(out.size());
  }
  return Value(std::move(out));
}

Value default_filter(const Value& input, Args& args) {
  const auto a = bind_args("default", args, {"default_value", "boolean"});
  const bool use_default = input.is_undefined() || (a[1].truthy() && !input.truthy());
  if (!use_default) return input;
  return given(a[0]) ? a[0] : Value("");
}

Value items(const Value& input, Args& args) {
  (void)bind_args("items", args, {});
  if (input.is_undefined()) return Value(List{});
  if (!input.is_dict()) fail("items: can only get item pairs from a mapping, not ", input.type_name());
  List out;
  for (const auto& [k, v] : input.as_dict().entries()) out.push_back(Value::tuple(List{k, v}));
  return Value(std::move(out));
}

Value map(const Value& input, Args& args) {
  List out;
  if (args.positional.empty()) {
    // map(attribute='name', default=...)
    const auto a = bind_args("map", args, {"attribute", "default"});
    if (!given(a[0])) fail("map: requires a filter name or attribute=");
    for (const Value& item : iterate(input)) {
      Value v = lookup_path(item, a[0]);
      out.push_back(v.is_undefined() && given(a[1]) ? a[1] : v);
    }
    return Value(std::move(out));
  }
  const std::string name = string_arg("map", args.positional[0]);
  for (const Value& item : iterate(input)) {
    Args rest = rest_args(args, 1);
    out.push_back(apply_filter(name, item, rest));
  }
  return Value(std::move(out));
}

// select/reject(test, args...) and selectattr/rejectattr(attribute, test, args...).
Value select_common(const Value& input, Args& args, bool by_attribute, bool keep_matching) {
  std::size_t next = 0;
  Value attribute;
  if (by_attribute) {
    if (args.positional.empty()) fail("selectattr/rejectattr: missing attribute");
    attribute = args.positional[next++];
  }
  std::string test;
  if (args.positional.size() > next) test = string_arg("select", args.positional[next++]);
  const Args test_args = rest_args(args, next);
  List out;
  for (const Value& item : iterate(input)) {
    const Value subject = by_attribute ? lookup_path(item, attribute) : item;
    const bool ok = test.empty() ? subject.truthy() : apply_test(test, subject, test_args);
    if (ok == keep_matching) out.push_back(item);
  }
  return Value(std::move(out));
}

Value unique(const Value& input, Args& args) {
  const auto a = bind_args("unique", args, {"case_sensitive", "attribute"});
  List out;
  List seen;
  for (const Value& item : iterate(input)) {
    const Value key = fold_case(given(a[1]) ? lookup_path(item, a[1]) : item, a[0].truthy());
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value(std::move(out));
}

Value sort(const Value& input, Args& args) {
  const auto a = bind_args("sort", args, {"reverse", "case_sensitive", "attribute"});
  List items = iterate(input);
  const bool case_sensitive = a[1].truthy();
  auto key = [&](const Value& v) { return fold_case(given(a[2]) ? lookup_path(v, a[2]) : v, case_sensitive); };
  const bool reverse = a[0].truthy();
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    return reverse ? less(key(y), key(x)) : less(key(x), key(y));
  });
  return Value(std::move(items));
}

Value dictsort(const Value& input, Args& args) {
  const auto a = bind_args("dictsort", args, {"case_sensitive", "by", "reverse"});
  if (!input.is_dict()) fail("dictsort: expected a mapping, got ", input.type_name());
  const std::string by = given(a[1]) ? string_arg("dictsort", a[1]) : "key";
  if (by != "key" && by != "value") fail("dictsort: you can only sort by either 'key' or 'value'");
  List pairs;
  for (const auto& [k, v] : input.as_dict().entries()) pairs.push_back(Value::tuple(List{k, v}));
  const std::size_t index = by == "key" ? 0 : 1;
  const bool case_sensitive = a[0].truthy();
  const bool reverse = a[2].truthy();
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
    const Value kx = fold_case(x.as_list()[index], case_sensitive);
    const Value ky = fold_case(y.as_list()[index], case_sensitive);
    return reverse ? less(ky, kx) : less(kx, ky);
  });
  return Value(std::move(pairs));
}

Value reverse(const Value& input, Args& args) {
  (void)bind_args("reverse", args, {});
  if (input.is_string()) {
    std::u32string cps = text::decode(input.as_string());
    std::reverse(cps.begin(), cps.end());
    return Value(text::encode(cps));
  }
  List items = iterate(input);
  std::reverse(items.begin(), items.end());
  return Value(std::move(items));
}

Value batch(const Value& input, Args& args) {
  const auto a = bind_args("batch", args, {"linecount", "fill_with"}, 1);
  const std::int64_t size = int_arg("batch", a[0], 1);
  if (size <= 0) fail("batch: linecount must be positive");
  List out;
  List current;
  for (const Value& item : iterate(input)) {
    current.push_back(item);
    if (static_cast<std::int64_t>(current.size()) == size) out.emplace_back(std::exchange(current, {}));
  }
  if (!current.empty()) {
    if (given(a[1]) && !a[1].is_none()) {
      while (static_cast<std::int64_t>(current.size()) < size) current.push_back(a[1]);
    }
    out.emplace_back(std::move(current));
  }
  return Value(std::move(out));
}

Value sum(const Value& input, Args& args) {
  const auto a = bind_args("sum", args, {"attribute", "start"});
  Value total = given(a[1]) ? a[1] : Value(0);
  for (const Value& raw : iterate(input)) {
    const Value item = given(a[0]) ? lookup_path(raw, a[0]) : raw;
    if (!total.is_number() || !item.is_number()) fail("sum: unsupported operand types '", total.type_name(), "' and '", item.type_name(), "'");
    if (total.kind() == K::Float || item.kind() == K::Float) {
      total = Value(total.as_float() + item.as_float());
    } else {
      std::int64_t r;
      if (__builtin_add_overflow(total.as_int(), item.as_int(), &r)) fail("sum: integer overflow");
      total = Value(r);
    }
  }
  return total;
}

Value min_max(const Value& input, Args& args, bool want_max) {
  const auto a = bind_args(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  const List items = iterate(input);
  if (items.empty()) return Value();
  auto key = [&](const Value& v) { return fold_case(given(a[1]) ? lookup_path(v, a[1]) : v, a[0].truthy()); };
  const Value* best = &items[0];
  for (const Value& item : items) {
    if (want_max ? less(key(*best), key(item)) : less(key(item), key(*best))) best = &item;
  }
  return *best;
}

const std::unordered_map<std::string_view, FilterFn>& registry() {
  static const std::unordered_map<std::string_view, FilterFn> filters = {
      {"tojson", tojson},
      {"trim", trim},
      {"upper", [](const Value& v, Args& a) { (void)bind_args("upper", a, {}); return Value(text::to_upper(v.str())); }},
      {"lower", [](const Value& v, Args& a) { (void)bind_args("lower", a, {}); return Value(text::to_lower(v.str())); }},
      {"title", title},
      {"capitalize", capitalize},
      {"replace", replace},
      {"escape", escape},
      {"e", escape},
      {"forceescape", escape},
      {"safe", [](const Value& v, Args& a) { (void)bind_args("safe", a, {}); return Value(v.str()); }},
      {"string", [](const Value& v, Args& a) { (void)bind_args("string", a, {}); return Value(v.str()); }},
      {"indent", indent},
      {"center", center},
      {"wordcount", wordcount},
      {"int", to_int},
      {"float", to_float},
      {"round", round_filter},
      {"abs", abs_filter},
      {"length", length},
      {"count", length},
      {"first", first},
      {"last", last},
      {"list", [](const Value& v, Args& a) { (void)bind_args("list", a, {}); return Value(iterate(v)); }},
      {"join", join},
      {"default", default_filter},
      {"d", default_filter},
      {"items", items},
      {"map", map},
      {"select", [](const Value& v, Args& a) { return select_common(v, a, false, true); }},
      {"reject", [](const Value& v, Args& a) { return select_common(v, a, false, false); }},
      {"selectattr", [](const Value& v, Args& a) { return select_common(v, a, true, true); }},
      {"rejectattr", [](const Value& v, Args& a) { return select_common(v, a, true, false); }},
      {"unique", unique},
      {"sort", sort},
      {"dictsort", dictsort},
      {"reverse", reverse},
      {"batch", batch},
      {"sum", sum},
      {"min", [](const Value& v, Args& a) { return min_max(v, a, false); }},
      {"max", [](const Value& v, Args& a) { return min_max(v, a, true); }},
      {"attr", [](const Value& v, Args& a) {
         const auto b = bind_args("attr", a, {"name"}, 1);
         return get_attr(v, string_arg("attr", b[0]));
       }},
  };
  return filters;
}

}  // namespace

bool has_filter(std::string_view name) { return registry().count(name) != 0; }

Value apply_filter(std::string_view name, const Value& input, Args& args) {
  const auto it = registry().find(name);
  if (it == registry().end()) fail("no filter named '", name, "'");
  return it->second(input, args);
}

}  // namespace bamba::jinja

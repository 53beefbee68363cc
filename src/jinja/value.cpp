// Value construction, conversion from JSON, Python truthiness, str()/repr(), equality and ordering.
#include "jinja/value.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "jinja/text.h"

namespace bamba::jinja {

namespace {

Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxValueDepth) fail("input value nested deeper than ", kMaxValueDepth, " levels");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<std::int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<std::int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(from_json_at(item, depth + 1));
      return Value(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict d;
      for (const auto& [key, item] : j.items()) d.set(Value(key), from_json_at(item, depth + 1));
      return Value(std::move(d));
    }
    default:  // binary and discarded values have no template meaning
      return Value::none();
  }
}

bool equals_at(const Value& a, const Value& b, int depth);

bool dict_equals(const Dict& a, const Dict& b, int depth) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, value] : a.entries()) {
    const Value* other = b.find(key);
    if (other == nullptr || !equals_at(value, *other, depth + 1)) return false;
  }
  return true;
}

bool equals_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) fail("value nested deeper than ", kMaxValueDepth, " levels");
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == K::Float || b.kind() == K::Float) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::Undefined:
    case K::None:
      return true;
    case K::String:
      return a.as_string() == b.as_string();
    case K::List: {
      if (a.is_tuple() != b.is_tuple()) return false;
      const List& x = a.as_list();
      const List& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!equals_at(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case K::Dict:
      return dict_equals(a.as_dict(), b.as_dict(), depth);
    case K::Namespace:
      return &a.namespace_attrs() == &b.namespace_attrs();
    case K::Callable:
      return &a.callable_name() == &b.callable_name();
    default:
      return false;
  }
}

}  // namespace

Value::Value(std::string s) : kind_(Kind::String), data_(std::make_shared<const std::string>(std::move(s))) {}
namespace {

std::uint16_t container_depth(int deepest_child) {
  if (deepest_child + 1 > kMaxValueDepth) fail("value nested deeper than ", kMaxValueDepth, " levels");
  return static_cast<std::uint16_t>(deepest_child + 1);
}

}  // namespace

Value::Value(List items) : kind_(Kind::List) {
  int deepest = 0;
  for (const Value& item : items) deepest = std::max(deepest, item.depth());
  depth_ = container_depth(deepest);
  data_ = std::make_shared<const List>(std::move(items));
}

Value::Value(Dict entries) : kind_(Kind::Dict) {
  int deepest = 0;
  for (const auto& [key, value] : entries.entries()) deepest = std::max({deepest, key.depth(), value.depth()});
  depth_ = container_depth(deepest);
  data_ = std::make_shared<const Dict>(std::move(entries));
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value Value::tuple(List items) {
  Value v(std::move(items));
  v.tuple_ = true;
  return v;
}

Value Value::make_namespace(Dict attrs) {
  Value v;
  v.kind_ = Kind::Namespace;
  v.data_ = std::make_shared<Dict>(std::move(attrs));
  return v;
}

Value Value::callable(std::string name, Function fn) {
  Value v;
  v.kind_ = Kind::Callable;
  v.data_ = std::make_shared<const Fn>(Fn{std::move(name), std::move(fn)});
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

std::int64_t Value::as_int() const {
  if (kind_ == Kind::Bool) return as_bool() ? 1 : 0;
  return std::get<std::int64_t>(data_);
}

double Value::as_float() const {
  if (kind_ == Kind::Float) return std::get<double>(data_);
  return static_cast<double>(as_int());
}

const Dict& Value::as_dict() const {
  if (kind_ == Kind::Namespace) return *std::get<NsPtr>(data_);
  return *std::get<DictPtr>(data_);
}

const std::string& Value::callable_name() const { return std::get<FnPtr>(data_)->name; }

Value Value::call(Args& args) const { return std::get<FnPtr>(data_)->fn(args); }

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
      return as_bool();
    case Kind::Int:
      return as_int() != 0;
    case Kind::Float:
      return as_float() != 0.0;
    case Kind::String:
      return !as_string().empty();
    case Kind::List:
      return !as_list().empty();
    case Kind::Dict:
      return !as_dict().empty();
    default:
      return true;
  }
}

void Value::write(std::string& out, bool as_repr, int depth) const {
  if (depth > kMaxValueDepth) fail("value nested deeper than ", kMaxValueDepth, " levels");
  check_string_size(out.size());
  switch (kind_) {
    case Kind::Undefined:
      if (as_repr) out += "Undefined";
      break;
    case Kind::None:
      out += "None";
      break;
    case Kind::Bool:
      out += as_bool() ? "True" : "False";
      break;
    case Kind::Int:
      out += std::to_string(as_int());
      break;
    case Kind::Float:
      out += text::format_float(as_float());
      break;
    case Kind::String:
      out += as_repr ? text::repr(as_string()) : as_string();
      break;
    case Kind::List: {
      out += tuple_ ? '(' : '[';
      bool first = true;
      for (const Value& item : as_list()) {
        if (!first) out += ", ";
        first = false;
        item.write(out, true, depth + 1);
      }
      if (tuple_ && as_list().size() == 1) out += ',';
      out += tuple_ ? ')' : ']';
      break;
    }
    case Kind::Namespace:
    case Kind::Dict: {
      if (kind_ == Kind::Namespace) out += "<Namespace ";
      out += '{';
      bool first = true;
      for (const auto& [key, value] : as_dict().entries()) {
        if (!first) out += ", ";
        first = false;
        key.write(out, true, depth + 1);
        out += ": ";
        value.write(out, true, depth + 1);
      }
      out += '}';
      if (kind_ == Kind::Namespace) out += '>';
      break;
    }
    case Kind::Callable:
      out += str_cat("<function ", callable_name(), ">");
      break;
  }
}

std::string Value::str() const {
  if (kind_ == Kind::String) return as_string();
  std::string out;
  write(out, false, 0);
  return out;
}

std::string Value::repr() const {
  std::string out;
  write(out, true, 0);
  return out;
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Callable: return "function";
  }
  return "object";
}

const Value* Dict::find(const Value& key) const {
  for (const auto& entry : entries_) {
    if (equals(entry.first, key)) return &entry.second;
  }
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.first.is_string() && entry.first.as_string() == key) return &entry.second;
  }
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& entry : entries_) {
    if (equals(entry.first, key)) {
      entry.second = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

std::vector<Value> bind_args(std::string_view callee, const Args& args,
                             std::initializer_list<std::string_view> params, std::size_t required) {
  std::vector<Value> bound(params.size());
  std::vector<bool> given(params.size(), false);
  if (args.positional.size() > params.size()) {
    fail(callee, "() takes at most ", params.size(), " argument(s) (", args.positional.size(), " given)");
  }
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    bound[i] = args.positional[i];
    given[i] = true;
  }
  for (const auto& [name, value] : args.named) {
    std::size_t i = 0;
    for (std::string_view p : params) {
      if (p == name) break;
      ++i;
    }
    if (i == params.size()) fail(callee, "() got an unexpected keyword argument '", name, "'");
    if (given[i]) fail(callee, "() got multiple values for argument '", name, "'");
    bound[i] = value;
    given[i] = true;
  }
  for (std::size_t i = 0; i < required; ++i) {
    if (!given[i]) fail(callee, "() missing required argument '", *(params.begin() + i), "'");
  }
  return bound;
}

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }

bool less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Value::Kind::Float || b.kind() == Value::Kind::Float) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  fail("'<' not supported between instances of '", a.type_name(), "' and '", b.type_name(), "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::Undefined:
      return false;
    case Value::Kind::String:
      if (!item.is_string()) fail("'in <string>' requires string as left operand, not ", item.type_name());
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::List:
      for (const Value& v : container.as_list()) {
        if (equals(v, item)) return true;
      }
      return false;
    case Value::Kind::Dict:
    case Value::Kind::Namespace:
      return container.as_dict().find(item) != nullptr;
    default:
      fail("argument of type '", container.type_name(), "' is not iterable");
  }
}

List iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return {};
    case Value::Kind::List:
      return v.as_list();
    case Value::Kind::Dict: {
      List keys;
      keys.reserve(v.as_dict().size());
      for (const auto& entry : v.as_dict().entries()) keys.push_back(entry.first);
      return keys;
    }
    case Value::Kind::String: {
      List chars;
      std::string one;
      for (char32_t c : text::decode(v.as_string())) {
        one.clear();
        text::append_utf8(one, c);
        chars.emplace_back(one);
      }
      return chars;
    }
    default:
      fail("'", v.type_name(), "' object is not iterable");
  }
}

void check_string_size(std::size_t bytes) {
  if (bytes > kMaxStringBytes) fail("string longer than ", kMaxStringBytes, " bytes");
}

void check_list_size(std::size_t items) {
  if (items > kMaxListItems) fail("list longer than ", kMaxListItems, " items");
}

}  // namespace bamba::jinja

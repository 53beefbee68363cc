// Runtime values of the template language: Python's data model (None, bool, int, float, str,
// list, dict) plus Jinja's Undefined, callables and namespaces, built from nlohmann::json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace bamba::jinja {

class Value;
class Dict;
struct Args;
using List = std::vector<Value>;
using Function = std::function<Value(Args&)>;

// Caps on what one render may build, so that hostile templates fail instead of exhausting memory.
inline constexpr std::size_t kMaxStringBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMaxListItems = std::size_t{1} << 22;
inline constexpr int kMaxValueDepth = 256;

class Value {
 public:
  enum class Kind : std::uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable };

  Value() = default;  // Undefined
  Value(bool b) : kind_(Kind::Bool), data_(b) {}
  Value(std::int64_t i) : kind_(Kind::Int), data_(i) {}
  Value(int i) : Value(static_cast<std::int64_t>(i)) {}
  Value(double d) : kind_(Kind::Float), data_(d) {}
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  Value(List items);
  Value(Dict entries);

  static Value none();
  // A Python tuple: a list that prints as (a, b) and never equals a list.
  static Value tuple(List items);
  // A Jinja namespace(): the one mutable object, shared by every copy of the value.
  static Value make_namespace(Dict attrs);
  static Value callable(std::string name, Function fn);
  static Value from_json(const nlohmann::ordered_json& j);

  [[nodiscard]] Kind kind() const { return kind_; }
  [[nodiscard]] bool is_undefined() const { return kind_ == Kind::Undefined; }
  [[nodiscard]] bool is_none() const { return kind_ == Kind::None; }
  [[nodiscard]] bool is_string() const { return kind_ == Kind::String; }
  [[nodiscard]] bool is_list() const { return kind_ == Kind::List; }
  [[nodiscard]] bool is_tuple() const { return kind_ == Kind::List && tuple_; }
  [[nodiscard]] bool is_dict() const { return kind_ == Kind::Dict; }
  [[nodiscard]] bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }

  [[nodiscard]] bool as_bool() const { return std::get<bool>(data_); }
  // Int or Bool as an integer (Python's bool is an int).
  [[nodiscard]] std::int64_t as_int() const;
  // Any number as a double.
  [[nodiscard]] double as_float() const;
  [[nodiscard]] const std::string& as_string() const { return *std::get<StrPtr>(data_); }
  [[nodiscard]] const List& as_list() const { return *std::get<ListPtr>(data_); }
  // The entries of a Dict, or the attributes of a Namespace.
  [[nodiscard]] const Dict& as_dict() const;
  [[nodiscard]] Dict& namespace_attrs() const { return *std::get<NsPtr>(data_); }
  [[nodiscard]] std::shared_ptr<Dict> namespace_ptr() const { return std::get<NsPtr>(data_); }
  [[nodiscard]] const std::string& callable_name() const;
  Value call(Args& args) const;

  // Levels of list/dict nesting (0 for scalars), capped at kMaxValueDepth so that no value is
  // too deep to print, compare or destroy.
  [[nodiscard]] int depth() const { return depth_; }

  [[nodiscard]] bool truthy() const;
  // Python's str() and repr(); Undefined prints as "".
  [[nodiscard]] std::string str() const;
  [[nodiscard]] std::string repr() const;
  // Python's type name, for error messages.
  [[nodiscard]] const char* type_name() const;

 private:
  struct Fn {
    std::string name;
    Function fn;
  };
  using StrPtr = std::shared_ptr<const std::string>;
  using ListPtr = std::shared_ptr<const List>;
  using DictPtr = std::shared_ptr<const Dict>;
  using NsPtr = std::shared_ptr<Dict>;
  using FnPtr = std::shared_ptr<const Fn>;

  void write(std::string& out, bool as_repr, int depth) const;

  Kind kind_ = Kind::Undefined;
  bool tuple_ = false;
  std::uint16_t depth_ = 0;
  std::variant<std::monostate, bool, std::int64_t, double, StrPtr, ListPtr, DictPtr, NsPtr, FnPtr> data_;
};

// Insertion-ordered mapping, as Python's dict. Lookups are linear: template dicts (messages,
// tool schemas, namespaces) are small.
class Dict {
 public:
  using Entry = std::pair<Value, Value>;
  Dict() = default;
  // Entries with distinct keys, kept in this order.
  Dict(std::initializer_list<Entry> entries) : entries_(entries) {}

  [[nodiscard]] const Value* find(const Value& key) const;
  [[nodiscard]] const Value* find(std::string_view key) const;
  // Inserts, or replaces the value of an existing key in place (keeping its position).
  void set(Value key, Value value);
  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }

 private:
  std::vector<Entry> entries_;
};

// Arguments of a call: positional, then keyword (in call order).
struct Args {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> named;
};

// Binds call arguments to parameter names as Python does; the first `required` parameters must
// be given. Missing optional ones come back Undefined. Fails on surplus or unknown arguments.
[[nodiscard]] std::vector<Value> bind_args(std::string_view callee, const Args& args,
                                           std::initializer_list<std::string_view> params,
                                           std::size_t required = 0);

// Python ==, with 1 == 1.0 == True and deep comparison of containers.
[[nodiscard]] bool equals(const Value& a, const Value& b);
// Python <, for numbers, strings and lists; fails on other types.
[[nodiscard]] bool less(const Value& a, const Value& b);
// Python `item in container` for str, list and dict; Undefined contains nothing.
[[nodiscard]] bool contains(const Value& container, const Value& item);
// Python iteration: the items of a list, the keys of a dict, the characters of a str.
[[nodiscard]] List iterate(const Value& v);

// Fails unless a string or list of that size may be built.
void check_string_size(std::size_t bytes);
void check_list_size(std::size_t items);

}  // namespace bamba::jinja

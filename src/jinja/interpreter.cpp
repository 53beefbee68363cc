// Tree-walking interpreter: statements write to an output string, expressions evaluate to Values.
#include "jinja/interpreter.h"

#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include "base/error.h"
#include "jinja/filters.h"
#include "jinja/globals.h"
#include "jinja/is_tests.h"
#include "jinja/methods.h"

namespace bamba::jinja {

namespace {

using namespace ast;

constexpr int kMaxCallDepth = 64;
constexpr std::uint64_t kMaxLoopIterations = std::uint64_t{1} << 20;

struct Scope;
using ScopePtr = std::shared_ptr<Scope>;

struct Scope {
  explicit Scope(ScopePtr parent_scope) : parent(std::move(parent_scope)) {}

  const Value* find(std::string_view name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
      for (const auto& [key, value] : s->vars) {
        if (key == name) return &value;
      }
    }
    return nullptr;
  }

  void set(const std::string& name, Value value) {
    for (auto& [key, v] : vars) {
      if (key == name) {
        v = std::move(value);
        return;
      }
    }
    vars.emplace_back(name, std::move(value));
  }

  ScopePtr parent;
  std::vector<std::pair<std::string, Value>> vars;
};

enum class Flow { Normal, Break, Continue };

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// Python ints never overflow; ours are 64-bit, so overflow is an error rather than a wrap.
std::int64_t checked(bool overflowed, const std::int64_t& result) {
  if (overflowed) fail("integer overflow");
  return result;
}

// Exponentiation by squaring, failing on overflow.
std::int64_t int_pow(std::int64_t base, std::int64_t exponent) {
  std::int64_t result = 1;
  while (exponent > 0) {
    if ((exponent & 1) != 0 && __builtin_mul_overflow(result, base, &result)) fail("integer overflow");
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) fail("integer overflow");
  }
  return result;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  if (b == -1 && a == INT64_MIN) fail("integer overflow");
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Value repeat(const Value& seq, std::int64_t times) {
  if (times <= 0) return seq.is_string() ? Value("") : Value(List{});
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    check_string_size(s.size() * static_cast<std::size_t>(std::min<std::int64_t>(times, INT32_MAX)));
    std::string out;
    for (std::int64_t i = 0; i < times; ++i) out += s;
    return Value(std::move(out));
  }
  const List& items = seq.as_list();
  check_list_size(items.size() * static_cast<std::size_t>(std::min<std::int64_t>(times, INT32_MAX)));
  List out;
  for (std::int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value(std::move(out));
}

[[noreturn]] void bad_operands(const char* op, const Value& a, const Value& b) {
  fail("unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '", b.type_name(), "'");
}

Value arithmetic(BinaryOp op, const Value& a, const Value& b) {
  using K = Value::Kind;
  const bool ints = (a.kind() == K::Int || a.kind() == K::Bool) && (b.kind() == K::Int || b.kind() == K::Bool);
  const bool numbers = a.is_number() && b.is_number();
  std::int64_t r = 0;
  switch (op) {
    case BinaryOp::Add:
      if (ints) {
        const bool overflowed = __builtin_add_overflow(a.as_int(), b.as_int(), &r);
        return Value(checked(overflowed, r));
      }
      if (numbers) return Value(a.as_float() + b.as_float());
      if (a.is_string() && b.is_string()) {
        check_string_size(a.as_string().size() + b.as_string().size());
        return Value(a.as_string() + b.as_string());
      }
      if (a.is_list() && b.is_list()) {
        check_list_size(a.as_list().size() + b.as_list().size());
        List out = a.as_list();
        out.insert(out.end(), b.as_list().begin(), b.as_list().end());
        return Value(std::move(out));
      }
      bad_operands("+", a, b);
    case BinaryOp::Sub:
      if (ints) {
        const bool overflowed = __builtin_sub_overflow(a.as_int(), b.as_int(), &r);
        return Value(checked(overflowed, r));
      }
      if (numbers) return Value(a.as_float() - b.as_float());
      bad_operands("-", a, b);
    case BinaryOp::Mul:
      if (ints) {
        const bool overflowed = __builtin_mul_overflow(a.as_int(), b.as_int(), &r);
        return Value(checked(overflowed, r));
      }
      if (numbers) return Value(a.as_float() * b.as_float());
      if ((a.is_string() || a.is_list()) && (b.kind() == K::Int || b.kind() == K::Bool)) return repeat(a, b.as_int());
      if ((b.is_string() || b.is_list()) && (a.kind() == K::Int || a.kind() == K::Bool)) return repeat(b, a.as_int());
      bad_operands("*", a, b);
    case BinaryOp::Div:
      if (!numbers) bad_operands("/", a, b);
      if (b.as_float() == 0) fail("division by zero");
      return Value(a.as_float() / b.as_float());
    case BinaryOp::FloorDiv:
      if (!numbers) bad_operands("//", a, b);
      if (b.as_float() == 0) fail("integer division or modulo by zero");
      if (ints) return Value(floor_div(a.as_int(), b.as_int()));
      return Value(std::floor(a.as_float() / b.as_float()));
    case BinaryOp::Mod:
      if (!numbers) bad_operands("%", a, b);
      if (b.as_float() == 0) fail("integer division or modulo by zero");
      if (ints) {
        if (b.as_int() == -1) return Value(0);
        const std::int64_t m = a.as_int() % b.as_int();
        return Value(m != 0 && ((m < 0) != (b.as_int() < 0)) ? m + b.as_int() : m);
      } else {
        double m = std::fmod(a.as_float(), b.as_float());
        if (m != 0 && ((m < 0) != (b.as_float() < 0))) m += b.as_float();
        return Value(m);
      }
    case BinaryOp::Pow:
      if (!numbers) bad_operands("**", a, b);
      if (ints && b.as_int() >= 0) return Value(int_pow(a.as_int(), b.as_int()));
      return Value(std::pow(a.as_float(), b.as_float()));
    default:
      fail("internal error: not an arithmetic operator");
  }
}

bool compare(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::Eq: return equals(a, b);
    case CompareOp::Ne: return !equals(a, b);
    case CompareOp::Lt: return less(a, b);
    case CompareOp::Le: return !less(b, a);
    case CompareOp::Gt: return less(b, a);
    case CompareOp::Ge: return !less(a, b);
    case CompareOp::In: return contains(b, a);
    case CompareOp::NotIn: return !contains(b, a);
  }
  return false;
}

// A readable name for the thing being called, for "is undefined" / "is not callable" errors.
std::string describe_callee(const Expr& e) {
  if (const auto* name = std::get_if<Name>(&e.node)) return name->name;
  if (const auto* attr = std::get_if<GetAttr>(&e.node)) return describe_callee(*attr->object) + "." + attr->name;
  return "expression";
}

class Renderer {
 public:
  explicit Renderer(const Dict& context) : root_(std::make_shared<Scope>(nullptr)) {
    for (auto& [name, value] : make_globals(namespaces_)) root_->set(name, std::move(value));
    for (const auto& [key, value] : context.entries()) root_->set(key.str(), value);
  }

  ~Renderer() {
    for (const auto& ns : namespaces_) ns->clear();
  }
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  std::string run(const Body& body) {
    std::string out;
    out_ = &out;
    try {
      exec(body, root_);
    } catch (const RaisedException&) {
      throw;
    } catch (const Error& e) {
      if (!error_pos_) throw;
      fail("template error at line ", error_pos_->line, ", column ", error_pos_->column, ": ", e.what());
    }
    return out;
  }

 private:
  // Remembers where the innermost failing node is; the message gets it at the top.
  void note_error(SourcePos pos) {
    if (!error_pos_) error_pos_ = pos;
  }

  void emit(std::string_view s) {
    if (out_->size() + s.size() > kMaxStringBytes) fail("output longer than ", kMaxStringBytes, " bytes");
    out_->append(s);
  }

  // Renders `body` into a string of its own (macros, block set, filter blocks).
  std::string capture(const Body& body, const ScopePtr& scope) {
    std::string captured;
    std::string* outer = std::exchange(out_, &captured);
    struct Restore {
      std::string*& target;
      std::string* value;
      ~Restore() { target = value; }
    } restore{out_, outer};
    exec(body, scope);
    return captured;
  }

  Flow exec(const Body& body, const ScopePtr& scope) {
    for (const Stmt& stmt : body) {
      const Flow flow = exec(stmt, scope);
      if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
  }

  Flow exec(const Stmt& stmt, const ScopePtr& scope) {
    try {
      return std::visit(Overloaded{
                            [&](const Text& s) { emit(s.text); return Flow::Normal; },
                            [&](const Output& s) { emit(eval(*s.value, *scope).str()); return Flow::Normal; },
                            [&](const If& s) { return exec_if(s, scope); },
                            [&](const For& s) { return exec_for(s, scope); },
                            [&](const Set& s) { exec_set(s, scope); return Flow::Normal; },
                            [&](const Macro& s) { define_macro(s, scope); return Flow::Normal; },
                            [&](const FilterBlock& s) {
                              Value v(capture(s.body, std::make_shared<Scope>(scope)));
                              emit(apply_filters(s.filters, std::move(v), *scope).str());
                              return Flow::Normal;
                            },
                            [&](const LoopControl& s) { return s.is_break ? Flow::Break : Flow::Continue; },
                            [&](const Generation& s) { return exec(s.body, std::make_shared<Scope>(scope)); },
                        },
                        stmt.node);
    } catch (const RaisedException&) {
      throw;
    } catch (const Error&) {
      note_error(stmt.pos);
      throw;
    }
  }

  Flow exec_if(const If& s, const ScopePtr& scope) {
    for (const auto& [condition, body] : s.branches) {
      if (eval(*condition, *scope).truthy()) return exec(body, scope);
    }
    return exec(s.otherwise, scope);
  }

  void bind_loop_targets(const For& s, Scope& scope, const Value& item) {
    if (!s.unpack) {
      scope.set(s.targets[0], item);
      return;
    }
    const List parts = iterate(item);
    if (parts.size() != s.targets.size()) {
      fail(parts.size() < s.targets.size() ? "not enough" : "too many", " values to unpack (expected ", s.targets.size(), ", got ", parts.size(), ")");
    }
    for (std::size_t i = 0; i < parts.size(); ++i) scope.set(s.targets[i], parts[i]);
  }

  Flow exec_for(const For& s, const ScopePtr& scope) {
    const Value iterable = eval(*s.iterable, *scope);
    List items = iterate(iterable);
    if (s.condition) {
      List kept;
      for (Value& item : items) {
        count_iteration();
        Scope probe(scope);
        bind_loop_targets(s, probe, item);
        if (eval(*s.condition, probe).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    const auto n = static_cast<std::int64_t>(items.size());
    for (std::int64_t i = 0; i < n; ++i) {
      count_iteration();
      auto child = std::make_shared<Scope>(scope);
      bind_loop_targets(s, *child, items[static_cast<std::size_t>(i)]);
      child->set("loop", loop_value(items, i));
      const Flow flow = exec(s.body, child);
      if (flow == Flow::Break) break;
    }
    if (items.empty()) return exec(s.otherwise, scope);
    return Flow::Normal;
  }

  void count_iteration() {
    if (++iterations_ > kMaxLoopIterations) fail("more than ", kMaxLoopIterations, " loop iterations");
  }

  static Value loop_value(const List& items, std::int64_t i) {
    const auto n = static_cast<std::int64_t>(items.size());
    Value cycle = Value::callable("cycle", [i](Args& args) {
      if (args.positional.empty()) fail("no items for cycling given");
      return args.positional[static_cast<std::size_t>(i) % args.positional.size()];
    });
    return Value(Dict{{Value("index"), Value(i + 1)},
                      {Value("index0"), Value(i)},
                      {Value("revindex"), Value(n - i)},
                      {Value("revindex0"), Value(n - i - 1)},
                      {Value("first"), Value(i == 0)},
                      {Value("last"), Value(i == n - 1)},
                      {Value("length"), Value(n)},
                      {Value("depth"), Value(1)},
                      {Value("depth0"), Value(0)},
                      {Value("previtem"), i > 0 ? items[static_cast<std::size_t>(i - 1)] : Value()},
                      {Value("nextitem"), i + 1 < n ? items[static_cast<std::size_t>(i + 1)] : Value()},
                      {Value("cycle"), std::move(cycle)}});
  }

  void exec_set(const Set& s, const ScopePtr& scope) {
    Value value;
    if (s.value) {
      value = eval(*s.value, *scope);
    } else {
      value = apply_filters(s.filters, Value(capture(s.body, std::make_shared<Scope>(scope))), *scope);
    }
    if (!s.unpack) {
      assign(s.targets[0], std::move(value), *scope);
      return;
    }
    const List parts = iterate(value);
    if (parts.size() != s.targets.size()) {
      fail(parts.size() < s.targets.size() ? "not enough" : "too many", " values to unpack (expected ", s.targets.size(), ", got ", parts.size(), ")");
    }
    for (std::size_t i = 0; i < parts.size(); ++i) assign(s.targets[i], parts[i], *scope);
  }

  static void assign(const Target& target, Value value, Scope& scope) {
    if (target.attr.empty()) {
      scope.set(target.name, std::move(value));
      return;
    }
    const Value* ns = scope.find(target.name);
    if (ns == nullptr || ns->kind() != Value::Kind::Namespace) fail("cannot assign attribute on non-namespace object '", target.name, "'");
    ns->namespace_attrs().set(Value(target.attr), std::move(value));
  }

  void define_macro(const Macro& m, const ScopePtr& scope) {
    // The macro sees the scope it was defined in; a weak reference avoids a cycle through the
    // scope that holds the macro itself.
    std::weak_ptr<Scope> defining = scope;
    scope->set(m.name, Value::callable(m.name, [this, &m, defining](Args& args) { return call_macro(m, defining, args); }));
  }

  Value call_macro(const Macro& m, const std::weak_ptr<Scope>& defining, Args& args) {
    if (call_depth_ >= kMaxCallDepth) fail("macro calls nested deeper than ", kMaxCallDepth);
    ++call_depth_;
    struct Leave {
      int& depth;
      ~Leave() { --depth; }
    } leave{call_depth_};
    ScopePtr parent = defining.lock();
    auto scope = std::make_shared<Scope>(parent ? parent : root_);
    List varargs;
    Dict kwargs;
    for (std::size_t i = m.params.size(); i < args.positional.size(); ++i) varargs.push_back(args.positional[i]);
    for (const auto& [name, value] : args.named) {
      bool is_param = false;
      for (const auto& param : m.params) is_param = is_param || param.first == name;
      if (!is_param) kwargs.set(Value(name), value);
    }
    for (std::size_t i = 0; i < m.params.size(); ++i) {
      const auto& [name, default_value] = m.params[i];
      const Value* given = nullptr;
      if (i < args.positional.size()) given = &args.positional[i];
      for (const auto& [arg_name, value] : args.named) {
        if (arg_name == name) given = &value;
      }
      if (given != nullptr) scope->set(name, *given);
      else if (default_value) scope->set(name, eval(*default_value, *scope));
      else scope->set(name, Value());
    }
    scope->set("varargs", Value::tuple(std::move(varargs)));
    scope->set("kwargs", Value(std::move(kwargs)));
    return Value(capture(m.body, scope));
  }

  Value apply_filters(const std::vector<FilterCall>& filters, Value value, const Scope& scope) {
    for (const FilterCall& f : filters) {
      try {
        Args args = eval_args(f.args, scope);
        value = apply_filter(f.name, value, args);
      } catch (const RaisedException&) {
        throw;
      } catch (const Error&) {
        note_error(f.pos);
        throw;
      }
    }
    return value;
  }

  Args eval_args(const CallArgs& call, const Scope& scope) {
    Args args;
    args.positional.reserve(call.positional.size());
    for (const auto& e : call.positional) args.positional.push_back(eval(*e, scope));
    for (const auto& [name, e] : call.named) args.named.emplace_back(name, eval(*e, scope));
    return args;
  }

  Value eval(const Expr& e, const Scope& scope) {
    try {
      return std::visit([&](const auto& node) { return eval_node(node, scope); }, e.node);
    } catch (const RaisedException&) {
      throw;
    } catch (const Error&) {
      note_error(e.pos);
      throw;
    }
  }

  Value eval_node(const Literal& n, const Scope&) { return n.value; }

  Value eval_node(const Name& n, const Scope& scope) {
    const Value* v = scope.find(n.name);
    return v ? *v : Value();
  }

  Value eval_node(const ListLiteral& n, const Scope& scope) {
    List items;
    items.reserve(n.items.size());
    for (const auto& item : n.items) items.push_back(eval(*item, scope));
    return n.tuple ? Value::tuple(std::move(items)) : Value(std::move(items));
  }

  Value eval_node(const DictLiteral& n, const Scope& scope) {
    Dict d;
    for (const auto& [key, value] : n.items) {
      Value k = eval(*key, scope);
      d.set(std::move(k), eval(*value, scope));
    }
    return Value(std::move(d));
  }

  Value eval_node(const GetAttr& n, const Scope& scope) { return get_attr(eval(*n.object, scope), n.name); }

  Value eval_node(const GetItem& n, const Scope& scope) {
    const Value object = eval(*n.object, scope);
    return get_item(object, eval(*n.key, scope));
  }

  Value eval_node(const Slice& n, const Scope& scope) {
    const Value object = eval(*n.object, scope);
    const Value start = n.start ? eval(*n.start, scope) : Value();
    const Value stop = n.stop ? eval(*n.stop, scope) : Value();
    const Value step = n.step ? eval(*n.step, scope) : Value();
    return slice(object, start, stop, step);
  }

  Value eval_node(const Call& n, const Scope& scope) {
    Value callee;
    if (const auto* attr = std::get_if<GetAttr>(&n.callee->node)) {
      // Method calls go straight to the method, without building a bound callable.
      const Value object = eval(*attr->object, scope);
      Args args = eval_args(n.args, scope);
      if (std::optional<Value> result = call_method(object, attr->name, args)) return std::move(*result);
      callee = get_attr(object, attr->name);
      return call_value(callee, *n.callee, args);
    }
    callee = eval(*n.callee, scope);
    Args args = eval_args(n.args, scope);
    return call_value(callee, *n.callee, args);
  }

  static Value call_value(const Value& callee, const Expr& what, Args& args) {
    if (callee.is_undefined()) fail("'", describe_callee(what), "' is undefined");
    if (callee.kind() != Value::Kind::Callable) fail("'", callee.type_name(), "' object is not callable");
    return callee.call(args);
  }

  Value eval_node(const Filter& n, const Scope& scope) {
    Value input = eval(*n.input, scope);
    Args args = eval_args(n.call.args, scope);
    return apply_filter(n.call.name, input, args);
  }

  Value eval_node(const Test& n, const Scope& scope) {
    const Value input = eval(*n.input, scope);
    const Args args = eval_args(n.args, scope);
    return Value(apply_test(n.name, input, args) != n.negated);
  }

  Value eval_node(const Unary& n, const Scope& scope) {
    const Value v = eval(*n.operand, scope);
    switch (n.op) {
      case UnaryOp::Not:
        return Value(!v.truthy());
      case UnaryOp::Neg:
        if (v.kind() == Value::Kind::Float) return Value(-v.as_float());
        if (v.is_number()) {
          if (v.as_int() == INT64_MIN) fail("integer overflow");
          return Value(-v.as_int());
        }
        fail("bad operand type for unary -: '", v.type_name(), "'");
      case UnaryOp::Pos:
        if (v.kind() == Value::Kind::Float) return v;
        if (v.is_number()) return Value(v.as_int());
        fail("bad operand type for unary +: '", v.type_name(), "'");
    }
    return Value();
  }

  Value eval_node(const Binary& n, const Scope& scope) {
    Value left = eval(*n.left, scope);
    switch (n.op) {
      case BinaryOp::And:
        return left.truthy() ? eval(*n.right, scope) : left;
      case BinaryOp::Or:
        return left.truthy() ? left : eval(*n.right, scope);
      case BinaryOp::Concat: {
        std::string s = left.str();
        s += eval(*n.right, scope).str();
        check_string_size(s.size());
        return Value(std::move(s));
      }
      default:
        return arithmetic(n.op, left, eval(*n.right, scope));
    }
  }

  Value eval_node(const Compare& n, const Scope& scope) {
    Value left = eval(*n.first, scope);
    for (const auto& [op, operand] : n.rest) {
      Value right = eval(*operand, scope);
      if (!compare(op, left, right)) return Value(false);
      left = std::move(right);
    }
    return Value(true);
  }

  Value eval_node(const Conditional& n, const Scope& scope) {
    if (eval(*n.condition, scope).truthy()) return eval(*n.then, scope);
    return n.otherwise ? eval(*n.otherwise, scope) : Value();
  }

  ScopePtr root_;
  std::vector<std::shared_ptr<Dict>> namespaces_;
  std::string* out_ = nullptr;
  std::optional<SourcePos> error_pos_;
  std::uint64_t iterations_ = 0;
  int call_depth_ = 0;
};

}  // namespace

std::string render(const Body& body, const Dict& context) {
  Renderer renderer(context);
  return renderer.run(body);
}

}  // namespace bamba::jinja

// Recursive-descent parser mirroring jinja2/parser.py: the precedence ladder
// condexpr > or > and > not > compare > + - > ~ > * / // % > ** > unary > postfix/filters/tests.
#include "jinja/parser.h"

#include <initializer_list>
#include <utility>

#include "base/error.h"
#include "jinja/filters.h"
#include "jinja/is_tests.h"

namespace bamba::jinja {

namespace {

using namespace ast;

// Nesting deeper than this (parentheses, blocks, chains of operators, attributes and filters,
// which all deepen the tree) is refused rather than risking the stack when rendering.
constexpr int kMaxNesting = 256;

template <class Node>
ExprPtr make(SourcePos pos, Node node) {
  return std::make_unique<Expr>(Expr{pos, std::move(node)});
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Body parse_template() {
    std::string stop;
    Body body = parse_body({}, stop);
    return body;
  }

 private:
  class Nested {
   public:
    explicit Nested(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.error("template nested too deeply");
    }
    ~Nested() { --p_.depth_; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;

   private:
    Parser& p_;
  };

  // Each link of `a + b + c`, `a.b.c` or `a|f|g` nests the left side one level deeper.
  class Chain {
   public:
    explicit Chain(Parser& p) : p_(p) {}
    ~Chain() { p_.depth_ -= links_; }
    Chain(const Chain&) = delete;
    Chain& operator=(const Chain&) = delete;
    void link() {
      ++links_;
      if (++p_.depth_ > kMaxNesting) p_.error("template nested too deeply");
    }

   private:
    Parser& p_;
    int links_ = 0;
  };

  const Token& cur() const { return toks_[i_]; }
  const Token& peek(std::size_t n = 1) const { return toks_[std::min(i_ + n, toks_.size() - 1)]; }
  const Token& advance() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  bool at_op(std::string_view op) const { return cur().kind == TokenKind::Operator && cur().text == op; }
  bool at_name(std::string_view name) const { return cur().kind == TokenKind::Name && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!at_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!at_name(name)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::End: return "end of template";
      case TokenKind::BlockEnd: return "'%}'";
      case TokenKind::VariableEnd: return "'}}'";
      case TokenKind::String: return "string literal";
      default: return "'" + t.text + "'";
    }
  }

  [[noreturn]] void error(std::string_view message) const { syntax_error(cur().pos, message); }
  [[noreturn]] void unexpected() const { error("unexpected " + describe(cur())); }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) error(str_cat("expected '", op, "', got ", describe(cur())));
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::Name) error("expected a name, got " + describe(cur()));
    return advance().text;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::BlockEnd) error("expected end of statement block, got " + describe(cur()));
    advance();
  }

  // Parses statements until a `{% name %}` with name in `stop`; consumes `{%` and the name and
  // stores it in `stopped_at`. With an empty `stop`, runs to the end of the template.
  Body parse_body(std::initializer_list<std::string_view> stop, std::string& stopped_at) {
    Nested nested(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      switch (t.kind) {
        case TokenKind::End:
          if (stop.size() != 0) error(str_cat("unexpected end of template, expected '", *(stop.end() - 1), "'"));
          return body;
        case TokenKind::Text:
          body.push_back(Stmt{t.pos, Text{t.text}});
          advance();
          break;
        case TokenKind::VariableBegin: {
          const SourcePos pos = advance().pos;
          ExprPtr value = parse_tuple();
          if (cur().kind != TokenKind::VariableEnd) error("expected '}}', got " + describe(cur()));
          advance();
          body.push_back(Stmt{pos, Output{std::move(value)}});
          break;
        }
        case TokenKind::BlockBegin: {
          const SourcePos pos = advance().pos;
          if (cur().kind != TokenKind::Name) error("expected a statement name, got " + describe(cur()));
          for (std::string_view s : stop) {
            if (cur().text == s) {
              stopped_at = advance().text;
              return body;
            }
          }
          body.push_back(parse_statement(pos, stop));
          break;
        }
        default:
          unexpected();
      }
    }
  }

  Stmt parse_statement(SourcePos pos, std::initializer_list<std::string_view> stop) {
    const std::string tag = cur().text;
    if (tag == "if") return Stmt{pos, parse_if()};
    if (tag == "for") return Stmt{pos, parse_for()};
    if (tag == "set") return Stmt{pos, parse_set()};
    if (tag == "macro") return Stmt{pos, parse_macro()};
    if (tag == "filter") {
      advance();
      FilterBlock block{parse_filter_chain(), {}};
      expect_block_end();
      std::string end;
      block.body = parse_body({"endfilter"}, end);
      expect_block_end();
      return Stmt{pos, std::move(block)};
    }
    if (tag == "generation") {
      advance();
      expect_block_end();
      std::string end;
      Generation gen{parse_body({"endgeneration"}, end)};
      expect_block_end();
      return Stmt{pos, std::move(gen)};
    }
    if (tag == "break" || tag == "continue") {
      if (loops_ == 0) error(str_cat("'", tag, "' outside of a loop"));
      advance();
      expect_block_end();
      return Stmt{pos, LoopControl{tag == "break"}};
    }
    std::string message = str_cat("unknown tag '", tag, "'");
    if (stop.size() != 0) {
      message += "; expected ";
      bool first = true;
      for (std::string_view s : stop) {
        message += str_cat(first ? "'" : " or '", s, "'");
        first = false;
      }
    }
    error(message);
  }

  If parse_if() {
    advance();
    If node;
    ++soft_;
    ExprPtr condition = parse_expression();
    expect_block_end();
    while (true) {
      std::string end;
      Body body = parse_body({"elif", "else", "endif"}, end);
      node.branches.emplace_back(std::move(condition), std::move(body));
      if (end == "elif") {
        condition = parse_expression();
        expect_block_end();
        continue;
      }
      expect_block_end();
      if (end == "else") {
        node.otherwise = parse_body({"endif"}, end);
        expect_block_end();
      }
      break;
    }
    --soft_;
    return node;
  }

  For parse_for() {
    advance();
    For node;
    const bool parenthesized = skip_op("(");
    do {
      if (!node.targets.empty()) node.unpack = true;
      if (at_name("in") && !node.targets.empty()) break;  // trailing comma: `for a, in xs`
      node.targets.push_back(expect_name());
    } while (skip_op(","));
    if (parenthesized) expect_op(")");
    if (!skip_name("in")) error("expected 'in', got " + describe(cur()));
    node.iterable = parse_or();
    if (at_op(",")) node.iterable = finish_tuple(std::move(node.iterable), [&] { return parse_or(); });
    if (skip_name("if")) node.condition = parse_expression();
    if (at_name("recursive")) error("recursive loops are not supported");
    expect_block_end();
    ++loops_;
    std::string end;
    node.body = parse_body({"else", "endfor"}, end);
    --loops_;
    expect_block_end();
    if (end == "else") {
      node.otherwise = parse_body({"endfor"}, end);
      expect_block_end();
    }
    return node;
  }

  Set parse_set() {
    advance();
    Set node;
    do {
      if (!node.targets.empty()) node.unpack = true;
      if (at_op("=") && !node.targets.empty()) break;
      Target target{expect_name(), {}};
      if (skip_op(".")) target.attr = expect_name();
      node.targets.push_back(std::move(target));
    } while (skip_op(","));
    if (skip_op("=")) {
      node.value = parse_tuple();
      expect_block_end();
      return node;
    }
    if (node.unpack || !node.targets[0].attr.empty()) {
      if (cur().kind == TokenKind::BlockEnd || at_op("|")) error("a block set assigns to a single name");
    }
    node.filters = parse_filter_chain();
    expect_block_end();
    std::string end;
    node.body = parse_body({"endset"}, end);
    expect_block_end();
    return node;
  }

  Macro parse_macro() {
    advance();
    Macro node;
    node.name = expect_name();
    expect_op("(");
    while (!at_op(")")) {
      if (!node.params.empty()) expect_op(",");
      if (at_op(")")) break;
      std::string name = expect_name();
      ExprPtr def;
      if (skip_op("=")) def = parse_expression();
      else if (!node.params.empty() && node.params.back().second) error("non-default argument follows default argument");
      node.params.emplace_back(std::move(name), std::move(def));
    }
    advance();
    expect_block_end();
    const int outer_loops = std::exchange(loops_, 0);
    std::string end;
    node.body = parse_body({"endmacro"}, end);
    loops_ = outer_loops;
    if (cur().kind == TokenKind::Name && cur().text == node.name) advance();
    expect_block_end();
    return node;
  }

  // `| f(args) | g` after a block set, or `f | g(args)` after `{% filter`.
  std::vector<FilterCall> parse_filter_chain() {
    std::vector<FilterCall> filters;
    if (at_op("|")) advance();
    else if (cur().kind != TokenKind::Name) return filters;
    do {
      filters.push_back(parse_filter_call());
    } while (skip_op("|"));
    return filters;
  }

  FilterCall parse_filter_call() {
    FilterCall call;
    call.pos = cur().pos;
    call.name = expect_name();
    while (skip_op(".")) call.name.append(".").append(expect_name());
    if (soft_ == 0 && !has_filter(call.name)) syntax_error(call.pos, str_cat("no filter named '", call.name, "'"));
    if (at_op("(")) call.args = parse_call_args();
    return call;
  }

  // Expressions ------------------------------------------------------------------------------

  // An expression, or a tuple of them without parentheses (`{{ a, b }}`, `set a, b = 1, 2`).
  ExprPtr parse_tuple() {
    ExprPtr first = parse_expression();
    if (!at_op(",")) return first;
    return finish_tuple(std::move(first), [&] { return parse_expression(); });
  }

  template <class ParseItem>
  ExprPtr finish_tuple(ExprPtr first, ParseItem parse_item) {
    const SourcePos pos = first->pos;
    ListLiteral tuple{{}, true};
    tuple.items.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().kind == TokenKind::VariableEnd || cur().kind == TokenKind::BlockEnd || at_name("if") || at_op(")")) break;
      tuple.items.push_back(parse_item());
    }
    return make(pos, std::move(tuple));
  }

  ExprPtr parse_expression() {
    Nested nested(*this);
    ExprPtr expr = parse_or();
    Chain chain(*this);
    while (at_name("if")) {
      chain.link();
      const SourcePos pos = advance().pos;
      ExprPtr condition = parse_or();
      ExprPtr otherwise;
      if (skip_name("else")) otherwise = parse_expression();
      expr = make(pos, Conditional{std::move(condition), std::move(expr), std::move(otherwise)});
    }
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    Chain chain(*this);
    while (at_name("or")) {
      chain.link();
      const SourcePos pos = advance().pos;
      left = make(pos, Binary{BinaryOp::Or, std::move(left), parse_and()});
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    Chain chain(*this);
    while (at_name("and")) {
      chain.link();
      const SourcePos pos = advance().pos;
      left = make(pos, Binary{BinaryOp::And, std::move(left), parse_not()});
    }
    return left;
  }

  ExprPtr parse_not() {
    Nested nested(*this);
    if (at_name("not")) {
      const SourcePos pos = advance().pos;
      return make(pos, Unary{UnaryOp::Not, parse_not()});
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    Compare cmp;
    static const std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::Eq}, {"!=", CompareOp::Ne}, {"<", CompareOp::Lt},
        {"<=", CompareOp::Le}, {">", CompareOp::Gt},  {">=", CompareOp::Ge}};
    while (true) {
      bool matched = false;
      for (const auto& [text, op] : kOps) {
        if (at_op(text)) {
          advance();
          cmp.rest.emplace_back(op, parse_math1());
          matched = true;
          break;
        }
      }
      if (matched) continue;
      if (skip_name("in")) {
        cmp.rest.emplace_back(CompareOp::In, parse_math1());
      } else if (at_name("not") && peek().kind == TokenKind::Name && peek().text == "in") {
        advance();
        advance();
        cmp.rest.emplace_back(CompareOp::NotIn, parse_math1());
      } else {
        break;
      }
    }
    if (cmp.rest.empty()) return first;
    const SourcePos pos = first->pos;
    cmp.first = std::move(first);
    return make(pos, std::move(cmp));
  }

  template <class Next>
  ExprPtr parse_binary(std::initializer_list<std::pair<std::string_view, BinaryOp>> ops, Next next) {
    ExprPtr left = next();
    Chain chain(*this);
    while (true) {
      bool matched = false;
      for (const auto& [text, op] : ops) {
        if (at_op(text)) {
          chain.link();
          const SourcePos pos = advance().pos;
          left = make(pos, Binary{op, std::move(left), next()});
          matched = true;
          break;
        }
      }
      if (!matched) return left;
    }
  }

  ExprPtr parse_math1() {
    return parse_binary({{"+", BinaryOp::Add}, {"-", BinaryOp::Sub}}, [&] { return parse_concat(); });
  }
  ExprPtr parse_concat() {
    return parse_binary({{"~", BinaryOp::Concat}}, [&] { return parse_math2(); });
  }
  ExprPtr parse_math2() {
    return parse_binary({{"*", BinaryOp::Mul}, {"/", BinaryOp::Div}, {"//", BinaryOp::FloorDiv}, {"%", BinaryOp::Mod}},
                        [&] { return parse_pow(); });
  }
  ExprPtr parse_pow() {
    return parse_binary({{"**", BinaryOp::Pow}}, [&] { return parse_unary(true); });
  }

  ExprPtr parse_unary(bool with_filter) {
    Nested nested(*this);
    ExprPtr node;
    if (at_op("-") || at_op("+")) {
      const bool neg = at_op("-");
      const SourcePos pos = advance().pos;
      node = make(pos, Unary{neg ? UnaryOp::Neg : UnaryOp::Pos, parse_unary(false)});
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const SourcePos pos = t.pos;
    switch (t.kind) {
      case TokenKind::Name: {
        const std::string name = advance().text;
        if (name == "true" || name == "True") return make(pos, Literal{Value(true)});
        if (name == "false" || name == "False") return make(pos, Literal{Value(false)});
        if (name == "none" || name == "None") return make(pos, Literal{Value::none()});
        return make(pos, Name{name});
      }
      case TokenKind::String: {
        std::string s;
        while (cur().kind == TokenKind::String) s += advance().text;  // "a" "b" is "ab"
        return make(pos, Literal{Value(std::move(s))});
      }
      case TokenKind::Integer:
        return make(pos, Literal{Value(advance().int_value)});
      case TokenKind::Float:
        return make(pos, Literal{Value(advance().float_value)});
      case TokenKind::Operator:
        if (t.text == "(") return parse_parenthesized();
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        unexpected();
      default:
        unexpected();
    }
  }

  ExprPtr parse_parenthesized() {
    const SourcePos pos = advance().pos;
    if (skip_op(")")) return make(pos, ListLiteral{{}, true});
    ExprPtr first = parse_expression();
    if (at_op(",")) first = finish_tuple(std::move(first), [&] { return parse_expression(); });
    expect_op(")");
    return first;
  }

  ExprPtr parse_list() {
    const SourcePos pos = advance().pos;
    ListLiteral list;
    while (!at_op("]")) {
      if (!list.items.empty()) expect_op(",");
      if (at_op("]")) break;
      list.items.push_back(parse_expression());
    }
    advance();
    return make(pos, std::move(list));
  }

  ExprPtr parse_dict() {
    const SourcePos pos = advance().pos;
    DictLiteral dict;
    while (!at_op("}")) {
      if (!dict.items.empty()) expect_op(",");
      if (at_op("}")) break;
      ExprPtr key = parse_expression();
      expect_op(":");
      dict.items.emplace_back(std::move(key), parse_expression());
    }
    advance();
    return make(pos, std::move(dict));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    Chain chain(*this);
    while (true) {
      chain.link();
      const SourcePos pos = cur().pos;
      if (skip_op(".")) {
        if (cur().kind == TokenKind::Integer) {
          ExprPtr index = make(cur().pos, Literal{Value(advance().int_value)});
          node = make(pos, GetItem{std::move(node), std::move(index)});
        } else {
          node = make(pos, GetAttr{std::move(node), expect_name()});
        }
      } else if (at_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (at_op("(")) {
        node = make(pos, Call{std::move(node), parse_call_args()});
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    const SourcePos pos = advance().pos;
    Nested nested(*this);
    ExprPtr start;
    if (!at_op(":")) {
      start = parse_expression();
      if (at_op(",")) start = finish_tuple(std::move(start), [&] { return parse_expression(); });
      if (skip_op("]")) return make(pos, GetItem{std::move(object), std::move(start)});
    }
    expect_op(":");
    Slice slice{std::move(object), std::move(start), nullptr, nullptr};
    if (!at_op("]") && !at_op(":")) slice.stop = parse_expression();
    if (skip_op(":") && !at_op("]")) slice.step = parse_expression();
    expect_op("]");
    return make(pos, std::move(slice));
  }

  CallArgs parse_call_args() {
    expect_op("(");
    CallArgs args;
    bool first = true;
    while (!at_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (at_op(")")) break;
      if (at_op("*") || at_op("**")) error("*args and **kwargs in calls are not supported");
      if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator && peek().text == "=") {
        std::string name = advance().text;
        advance();
        args.named.emplace_back(std::move(name), parse_expression());
      } else {
        if (!args.named.empty()) error("positional argument follows keyword argument");
        args.positional.push_back(parse_expression());
      }
    }
    advance();
    return args;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    Chain chain(*this);
    while (true) {
      chain.link();
      const SourcePos pos = cur().pos;
      if (skip_op("|")) {
        node = make(pos, Filter{std::move(node), parse_filter_call()});
      } else if (at_name("is")) {
        node = parse_test(std::move(node));
      } else if (at_op("(")) {
        node = make(pos, Call{std::move(node), parse_call_args()});
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_test(ExprPtr input) {
    const SourcePos pos = advance().pos;
    Test test;
    test.negated = skip_name("not");
    const SourcePos name_pos = cur().pos;
    test.name = expect_name();
    while (skip_op(".")) test.name.append(".").append(expect_name());
    if (soft_ == 0 && !has_test(test.name)) syntax_error(name_pos, str_cat("no test named '", test.name, "'"));
    const Token& t = cur();
    const bool arg_start = t.kind == TokenKind::Name || t.kind == TokenKind::String || t.kind == TokenKind::Integer ||
                           t.kind == TokenKind::Float || at_op("[") || at_op("{");
    if (at_op("(")) {
      test.args = parse_call_args();
    } else if (arg_start && !at_name("else") && !at_name("or") && !at_name("and")) {
      // Jinja2 takes one bare argument: `x is divisibleby 3`, `x is sameas false`.
      if (at_name("is")) error("cannot chain multiple tests with 'is'");
      test.args.positional.push_back(parse_postfix(parse_primary()));
    }
    test.input = std::move(input);
    return make(pos, std::move(test));
  }

  std::vector<Token> toks_;
  std::size_t i_ = 0;
  int depth_ = 0;
  int soft_ = 0;   // inside `{% if %}`: unknown filters and tests fail only when run
  int loops_ = 0;  // enclosing `{% for %}` bodies, for break/continue
};

}  // namespace

ast::Body parse(std::string_view source, const LexOptions& options) {
  return Parser(tokenize(source, options)).parse_template();
}

}  // namespace bamba::jinja

// The syntax tree a parsed template is made of: expressions and statements.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "jinja/lexer.h"
#include "jinja/value.h"

namespace bamba::jinja::ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct CallArgs {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> named;
};

// `name(args)` after a `|`, or in a `{% filter %}` / `{% set x | f %}` header.
struct FilterCall {
  SourcePos pos;
  std::string name;
  CallArgs args;
};

struct Literal { Value value; };
struct Name { std::string name; };
struct ListLiteral { std::vector<ExprPtr> items; bool tuple = false; };
struct DictLiteral { std::vector<std::pair<ExprPtr, ExprPtr>> items; };
struct GetAttr { ExprPtr object; std::string name; };
struct GetItem { ExprPtr object; ExprPtr key; };
struct Slice { ExprPtr object; ExprPtr start, stop, step; };  // absent bounds are null
struct Call { ExprPtr callee; CallArgs args; };
struct Filter { ExprPtr input; FilterCall call; };
struct Test { ExprPtr input; std::string name; CallArgs args; bool negated = false; };
enum class UnaryOp { Neg, Pos, Not };
struct Unary { UnaryOp op; ExprPtr operand; };
enum class BinaryOp { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat, And, Or };
struct Binary { BinaryOp op; ExprPtr left, right; };
enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };
// Python-style chain: `a < b < c` is `a < b and b < c`.
struct Compare { ExprPtr first; std::vector<std::pair<CompareOp, ExprPtr>> rest; };
struct Conditional { ExprPtr condition, then, otherwise; };  // `otherwise` null: Undefined

struct Expr {
  SourcePos pos;
  std::variant<Literal, Name, ListLiteral, DictLiteral, GetAttr, GetItem, Slice, Call, Filter, Test, Unary,
               Binary, Compare, Conditional>
      node;
};

struct Stmt;
using Body = std::vector<Stmt>;

// Where `{% set %}` stores: a variable, or an attribute of a namespace (`ns.attr`).
struct Target {
  std::string name;
  std::string attr;
};

struct Text { std::string text; };
struct Output { ExprPtr value; };
struct If { std::vector<std::pair<ExprPtr, Body>> branches; Body otherwise; };
struct For {
  std::vector<std::string> targets;
  bool unpack = false;  // `for a, b in ...`
  ExprPtr iterable;
  ExprPtr condition;  // `for x in xs if cond`; may be null
  Body body;
  Body otherwise;     // runs when nothing was iterated
};
struct Set {
  std::vector<Target> targets;
  bool unpack = false;
  ExprPtr value;                     // `{% set x = value %}`, or null for a block set
  Body body;                         // `{% set x %}body{% endset %}`
  std::vector<FilterCall> filters;   // `{% set x | f %}` applies these to the body
};
struct Macro {
  std::string name;
  std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
  Body body;
};
struct FilterBlock { std::vector<FilterCall> filters; Body body; };
struct LoopControl { bool is_break = false; };
// Hugging Face's `{% generation %}`: marks assistant output for masks; renders its body.
struct Generation { Body body; };

struct Stmt {
  SourcePos pos;
  std::variant<Text, Output, If, For, Set, Macro, FilterBlock, LoopControl, Generation> node;
};

}  // namespace bamba::jinja::ast

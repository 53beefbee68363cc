// Statements: if/elif/else, for (loop variables, else, filters, unpacking, break/continue), set
// (scoping, namespaces, block set), macros, filter blocks, raw, generation.
#include <gtest/gtest.h>

#include "render.h"

namespace bamba::jinja {
namespace {

using testing::render;
using Json = nlohmann::ordered_json;

TEST(Statements, IfElifElse) {
  const Json ctx = {{"messages", {{{"role", "user"}, {"content", "1"}}, {{"role", "assistant"}, {"content", "2"}}, {{"role", "x"}}}}};
  EXPECT_EQ(render("{% for m in messages %}{% if m.role == 'user' %}U:{{ m.content }}{% elif m.role == 'assistant' %}A:{{ m.content }}{% else %}?{% endif %}{% endfor %}", ctx),
            "U:1A:2?");
}

TEST(Statements, LoopVariables) {
  EXPECT_EQ(render("{% for i in range(3) %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.revindex }}{{ loop.length }},{% endfor %}"),
            "10TrueFalse33,21FalseFalse23,32FalseTrue13,");
  EXPECT_EQ(render("{% for x in 'ab' %}{{ loop.cycle('o', 'e') }}{{ loop.previtem }}{{ loop.nextitem }}{% endfor %}"), "obea");
  EXPECT_EQ(render("{% for a in [1] %}{% for b in [2, 3] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}"), "121");
}

TEST(Statements, ForElseAndFilter) {
  EXPECT_EQ(render("{% for x in [] %}a{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in xs if x > 1 %}{{ x }}{{ loop.last }}{% endfor %}", {{"xs", {1, 2, 3, 0}}}), "2False3True");
  EXPECT_EQ(render("{% for x in [1] if x > 5 %}a{% else %}none{% endfor %}"), "none");
}

TEST(Statements, ForUnpacking) {
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {{"d", {{"b", 1}, {"a", 2}}}}), "b=1;a=2;");
  EXPECT_EQ(render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}"), "37");
  EXPECT_THROW((void)render("{% for a, b in [[1, 2, 3]] %}{% endfor %}"), Error);
}

TEST(Statements, BreakAndContinue) {
  EXPECT_EQ(render("{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}"),
            "02");
}

TEST(Statements, SetScoping) {
  // A loop body is a scope of its own, fresh at every iteration; `if` is not a scope.
  EXPECT_EQ(render("{% set x = 1 %}{% for i in range(2) %}{{ x }}{% set x = 5 %}{{ x }}{% endfor %}{{ x }}"), "15151");
  EXPECT_EQ(render("{% for i in range(3) %}{% if i == 1 %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}"), "[][5][]");
  EXPECT_EQ(render("{% if true %}{% set z = 2 %}{% endif %}{{ z }}"), "2");
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
  EXPECT_EQ(render("{% set messages = messages[1:] %}{{ messages }}", {{"messages", {1, 2}}}), "[2]");
}

TEST(Statements, Namespaces) {
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(5) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"), "10");
  EXPECT_EQ(render("{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.items }}"),
            "[0, 1, 2]");
  EXPECT_EQ(render("{% set ns = namespace(a=1,\n    b='x'\n) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}"), "1x1");
  EXPECT_THROW((void)render("{% set x = 1 %}{% set x.attr = 2 %}"), Error);
  // A namespace holding itself must not leak or loop.
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.self = ns %}ok"), "ok");
}

TEST(Statements, BlockSet) {
  EXPECT_EQ(render("{% set x %}hello {{ 1 }}{% endset %}[{{ x }}]"), "[hello 1]");
  EXPECT_EQ(render("{% set x | upper %}hello{% endset %}{{ x }}"), "HELLO");
}

TEST(Statements, Macros) {
  EXPECT_EQ(render("{% macro f(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ f(1) }} {{ f(1, b=3) }} {{ f(a=4) }} [{{ f() }}]"),
            "1-2 1-3 4-2 [-2]");
  EXPECT_EQ(render("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, a=3) }}"), "(1, 2){'a': 3}");
  EXPECT_EQ(render("{% macro outer(x) %}[{{ inner(x) }}]{% endmacro %}{% macro inner(y) %}{{ y * 2 }}{% endmacro %}{{ outer(4) }}"), "[8]");
}

TEST(Statements, RecursionIsBounded) {
  EXPECT_THROW((void)render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), Error);
}

TEST(Statements, FilterBlockRawGeneration) {
  EXPECT_EQ(render("{% filter upper %}abc{{ 1 }}{% endfilter %}"), "ABC1");
  EXPECT_EQ(render("{% raw %}{{ x }}{% if %}{% endraw %}"), "{{ x }}{% if %}");
  EXPECT_EQ(render("{% generation %}text {{ 1 }}{% endgeneration %}"), "text 1");
}

TEST(Statements, CommentsRenderNothing) {
  EXPECT_EQ(render("a{# {{ x }} {% if %} #}b"), "ab");
}

}  // namespace
}  // namespace bamba::jinja

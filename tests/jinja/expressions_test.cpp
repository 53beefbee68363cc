// Expressions: literals, operators, precedence, attribute/item access, slices, tests, printing.
#include <gtest/gtest.h>

#include "render.h"

namespace bamba::jinja {
namespace {

using testing::render;
using Json = nlohmann::ordered_json;

TEST(Expressions, Arithmetic) {
  EXPECT_EQ(render("{{ 1 + 2 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1.5 * 2 }}"),
            "3 3.5 3 -4 2 1024 3.0");
  EXPECT_EQ(render("{{ 1 + 2 * 3 - 4 / 2 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }}"), "5.0 5 64");
  EXPECT_EQ(render("{{ [1, 2] + [3] }} {{ 'ab' * 3 }} {{ 'a' + 'b' }} {{ -(-1) }}"), "[1, 2, 3] ababab ab 1");
  EXPECT_EQ(render("{{ (-1) ** 3 }} {{ 2 ** 62 }} {{ 2 ** -1 }} {{ 5.5 % 2 }} {{ -5 % 3 }} {{ 5 // -2 }}"),
            "-1 4611686018427387904 0.5 1.5 1 -3");
}

TEST(Expressions, Concatenation) {
  EXPECT_EQ(render("{{ 'a' ~ 1 ~ none ~ x ~ true }}"), "a1NoneTrue");
}

TEST(Expressions, LiteralsPrintLikePython) {
  EXPECT_EQ(render("{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}"), "True True False None None");
  EXPECT_EQ(render("{{ [1, 'a', none, true, 1.0] }} {{ {'a': 1, 'b': [2]} }} {{ (1, 2) }} {{ (1,) }}"),
            "[1, 'a', None, True, 1.0] {'a': 1, 'b': [2]} (1, 2) (1,)");
  EXPECT_EQ(render("{{ 1e20 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 1e16 }} {{ 1.5e-7 }} {{ 100.0 }} {{ 1/3 }}"),
            "1e+20 0.30000000000000004 1e-05 1e+16 1.5e-07 100.0 0.3333333333333333");
  EXPECT_EQ(render("{{ \"it's\" }} {{ ['it\\'s'] }} {{ '\\u00e9\\x41\\t|' }} {{ 'a' \"b\" }}"), "it's [\"it's\"] éA\t| ab");
  EXPECT_EQ(render("{{ 1_000 }} {{ 0x1F }} {{ 0b101 }}"), "1000 31 5");
}

TEST(Expressions, Comparisons) {
  EXPECT_EQ(render("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1] == [1.0] }} {{ 'a' < 'b' }} {{ none == none }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}"),
            "True True True True True True False");
  EXPECT_EQ(render("{{ 1 in [1, 2] }} {{ 3 not in [1] }} {{ 'a' in 'abc' }} {{ 'k' in {'k': 1} }} {{ 'x' in undefined_name }}"),
            "True True True True False");
}

TEST(Expressions, LogicReturnsOperands) {
  EXPECT_EQ(render("{{ not true }}|{{ 1 and 2 }}|{{ 0 or 'x' }}|{{ [] or none }}|{{ not x is defined }}"),
            "False|2|x|None|True");
}

TEST(Expressions, ConditionalExpression) {
  EXPECT_EQ(render("[{{ 1 if false }}]{{ 'a' if true else 'b' }}{{ 'x' if y is defined and y.z else 'no' }}", {{"y", {{"z", 0}}}}),
            "[]ano");
}

TEST(Expressions, AttributesAndItems) {
  const Json ctx = {{"m", {{"role", "user"}, {"items", Json::array({1})}}}, {"xs", {1, 2, 3}}};
  EXPECT_EQ(render("{{ m.role }} {{ m['role'] }} {{ m.items() }} {{ m['items'] }} {{ xs[-1] }} {{ xs.0 }}", ctx),
            "user user [('role', 'user'), ('items', [1])] [1] 3 1");
  EXPECT_EQ(render("[{{ m.missing }}][{{ xs[10] }}][{{ none.attr }}][{{ nothing.attr.deeper }}]", ctx), "[][][][]");
}

TEST(Expressions, Slices) {
  EXPECT_EQ(render("{{ 'abc'[::-1] }} {{ 'abcdef'[1:3] }} {{ [1,2,3][1:] }} {{ [1,2,3,4][::2] }} {{ [1,2,3,4][-2:] }} {{ [1,2,3][5:] }} {{ 'abc'[1:-1] }}"),
            "cba bc [2, 3] [1, 3] [3, 4] [] b");
}

TEST(Expressions, StringsIndexByCodePoint) {
  EXPECT_EQ(render("{{ 'héllo'[1] }} {{ 'héllo'|length }} {{ 'héllo'[::-1] }} {{ 'a😀b'[1] }} {{ 'a😀b'|length }}"),
            "é 5 olléh 😀 3");
}

TEST(Expressions, Tests) {
  EXPECT_EQ(render("{{ x is none }}{{ y is not none }}{{ 1 is number }}{{ true is number }}{{ 1.5 is integer }}{{ 'a' is string }}", {{"x", nullptr}, {"y", 1}}),
            "TrueTrueTrueTrueFalseTrue");
  EXPECT_EQ(render("{{ {} is mapping }}{{ [] is iterable }}{{ 'x' is iterable }}{{ [] is sequence }}{{ true is boolean }}{{ true is true }}{{ 0 is false }}"),
            "TrueTrueTrueTrueTrueTrueFalse");
  EXPECT_EQ(render("{{ 2 is even }}{{ 3 is odd }}{{ 1 is eq 1 }}{{ 1 is equalto 2 }}{{ 'x' is in ['x'] }}{{ 9 is divisibleby 3 }}{{ none is sameas none }}"),
            "TrueTrueTrueFalseTrueTrueTrue");
  EXPECT_EQ(render("{{ x is defined }}{{ x is undefined }}{{ y.z is defined }}{{ y is defined }}", {{"y", Json::object()}}),
            "FalseTrueFalseTrue");
}

TEST(Expressions, StringMethods) {
  EXPECT_EQ(render("{{ '  a b  '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'xxaxx'.rstrip('x') }}|{{ 'a,b,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}"),
            "a b|axx|xxa|['a', 'b', 'c']|['a', 'b']|['a', 'b c']");
  EXPECT_EQ(render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('bc') }}{{ 'abc'.startswith(('x', 'a')) }}|{{ 'Abc'.upper() }}{{ 'Abc'.lower() }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}"),
            "TrueTrueTrue|ABCabc|Hello World|Hello");
  EXPECT_EQ(render("{{ 'abc'.find('c') }}{{ 'abc'.find('z') }}|{{ '{} {}'.format(1, 'x') }}|{{ '{a}!'.format(a=2) }}|{{ ','.join(['a', 'b']) }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'a\\nb'.splitlines() }}"),
            "2-1|1 x|2!|a,b|a-b-|['a', 'b']");
}

TEST(Expressions, DictMethods) {
  const Json ctx = {{"d", {{"a", 1}, {"b", 2}}}};
  EXPECT_EQ(render("{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 5) }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }}", ctx),
            "1 None 5 ['a', 'b'] [1, 2] [('a', 1), ('b', 2)]");
}

TEST(Expressions, GlobalFunctions) {
  EXPECT_EQ(render("{{ range(3)|list }}{{ range(1, 10, 3)|list }}{{ range(5, 0, -2)|list }}"), "[0, 1, 2][1, 4, 7][5, 3, 1]");
  EXPECT_EQ(render("{{ dict(a=1, b='x') }}"), "{'a': 1, 'b': 'x'}");
  EXPECT_EQ(render("{{ strftime_now('%Y')|length }}"), "4");
}

TEST(Expressions, UndefinedBehavesLikeJinja) {
  EXPECT_EQ(render("[{{ x }}][{{ x|length }}][{% for i in x %}i{% endfor %}][{{ x|list }}][{{ x|string }}][{{ 'a' ~ x }}]"),
            "[][0][][[]][][a]");
}

}  // namespace
}  // namespace bamba::jinja

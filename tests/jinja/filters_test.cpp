// Filters, with Python Jinja2's results (and Hugging Face's tojson).
#include <gtest/gtest.h>

#include "render.h"

namespace bamba::jinja {
namespace {

using testing::render;
using Json = nlohmann::ordered_json;

TEST(Filters, Strings) {
  EXPECT_EQ(render("{{ '  x  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'Hello'|upper }}{{ 'Hello'|lower }}|{{ 'hello world-foo'|title }}|{{ 'hELLO'|capitalize }}"),
            "x|a|HELLOhello|Hello World-Foo|Hello");
  EXPECT_EQ(render("{{ 'aaa'|replace('a', 'b', 2) }}|{{ 'héllo wörld'|upper }}|{{ 'abc'|center(9) }}|{{ 'hello big world'|wordcount }}"),
            "bba|HÉLLO WÖRLD|   abc   |3");
  EXPECT_EQ(render("{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|escape }} {{ '<b>'|safe }} {{ 5|string }}"),
            "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt; &lt;b&gt; <b> 5");
}

TEST(Filters, Indent) {
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}"),
            "a\n  b\n\n  c|  a\n  b|a\n  \n  b|a\n> b");
}

TEST(Filters, Sequences) {
  EXPECT_EQ(render("{{ [1,2,3]|join(', ') }}|{{ [3,1,2]|first }}{{ [3,1,2]|last }}|{{ 'abc'|list }}|{{ [1,2,3]|length }}{{ [1,2,3]|count }}"),
            "1, 2, 3|32|['a', 'b', 'c']|33");
  EXPECT_EQ(render("{{ ['b','A','a','c']|unique|list }} {{ ['b','A','a','c']|sort }} {{ [3,1,2]|sort(reverse=true) }} {{ [1,2]|reverse|list }} {{ 'ab'|reverse }}"),
            "['b', 'A', 'c'] ['A', 'a', 'b', 'c'] [3, 2, 1] [2, 1] ba");
  EXPECT_EQ(render("{{ [{'a': 2}, {'a': 1}]|sort(attribute='a') }} {{ ['B','a']|sort(case_sensitive=true) }}"),
            "[{'a': 1}, {'a': 2}] ['B', 'a']");
  EXPECT_EQ(render("{{ {'b':1,'a':2}|dictsort }} {{ {'b':1,'a':2}|items|list }} {{ [1,2,3,4,5]|batch(2)|list }}"),
            "[('a', 2), ('b', 1)] [('b', 1), ('a', 2)] [[1, 2], [3, 4], [5]]");
  EXPECT_EQ(render("{{ [1,2,3]|sum }} {{ [3,1,2]|min }}{{ [3,1,2]|max }} {{ []|first is defined }}"), "6 13 False");
}

TEST(Filters, MapSelectReject) {
  const Json ctx = {{"users", {{{"name", "a"}, {"active", true}}, {{"name", "b"}, {"active", false}}}}};
  EXPECT_EQ(render("{{ users|map(attribute='name')|join(',') }}|{{ users|selectattr('active')|map(attribute='name')|list }}|{{ users|rejectattr('active')|list|length }}", ctx),
            "a,b|['a']|1");
  EXPECT_EQ(render("{{ users|selectattr('name', 'equalto', 'b')|map(attribute='active')|first }}|{{ users|map(attribute='x', default='-')|join }}", ctx),
            "False|--");
  EXPECT_EQ(render("{{ [1,2,3,4]|select('odd')|list }} {{ [1,2,3,4]|reject('even')|list }} {{ [1,2,3]|map('string')|join }} {{ ['a','b']|map('upper')|join('-') }}"),
            "[1, 3] [1, 3] 123 A-B");
}

TEST(Filters, Defaults) {
  EXPECT_EQ(render("{{ x|default('d') }}|{{ ''|default('d', true) }}|{{ ''|default('d') }}|{{ x|d('y') }}|{{ none|default('z') }}|{{ x|default }}"),
            "d|d||y|None|");
}

TEST(Filters, Numbers) {
  EXPECT_EQ(render("{{ '3'|int + 1 }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '2.5'|float }} {{ 10|float }}"),
            "4 3 0 7 3 2.5 10.0");
  EXPECT_EQ(render("{{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.1|round(method='ceil') }} {{ -3|abs }} {{ -2.5|abs }}"),
            "2.57 2.0 4.0 3.0 3 2.5");
}

TEST(Filters, ToJsonMatchesPythonJsonDumps) {
  const Json ctx = {{"x", {{"a", {1, 2.5, "é\n\"<>"}}, {"b", nullptr}, {"c", true}, {"d", Json::object()}, {"e", Json::array()}}}};
  EXPECT_EQ(render("{{ x|tojson }}", ctx), R"({"a": [1, 2.5, "é\n\"<>"], "b": null, "c": true, "d": {}, "e": []})");
  EXPECT_EQ(render("{{ x|tojson(indent=2) }}", ctx),
            "{\n  \"a\": [\n    1,\n    2.5,\n    \"é\\n\\\"<>\"\n  ],\n  \"b\": null,\n  \"c\": true,\n  \"d\": {},\n  \"e\": []\n}");
  EXPECT_EQ(render("{{ [1, 2]|tojson(separators=(',', ':')) }} {{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }} {{ 'é'|tojson(ensure_ascii=true) }}"),
            R"([1,2] {"a": 2, "b": 1} "\u00e9")");
  EXPECT_EQ(render("{{ x|tojson }}", {{"x", "\u2028\x01"}}), "\"\u2028\\u0001\"");
  EXPECT_THROW((void)render("{{ undefined_name|tojson }}"), Error);
}

}  // namespace
}  // namespace bamba::jinja

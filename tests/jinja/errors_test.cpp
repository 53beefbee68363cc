// Errors: syntax errors name line and column, unknown filters and tests, raise_exception's
// message, runtime type errors, and resource limits; nothing crashes on hostile input.
#include <gtest/gtest.h>

#include <string>

#include "jinja/globals.h"
#include "render.h"

namespace bamba::jinja {
namespace {

using testing::render;

std::string error_of(std::string_view source, const nlohmann::ordered_json& context = nullptr) {
  try {
    (void)render(source, context);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Errors, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("line one\n{% for %}"), "syntax error at line 2, column 8: expected a name, got '%}'");
  EXPECT_EQ(error_of("{% if x %}\nno end"), "syntax error at line 2, column 7: unexpected end of template, expected 'endif'");
  EXPECT_EQ(error_of("ab\n  {{ 1 + }}"), "syntax error at line 2, column 10: unexpected '}}'");
  EXPECT_EQ(error_of("{{ 'unterminated }}"), "syntax error at line 1, column 4: unterminated string literal");
  EXPECT_EQ(error_of("{% frobnicate %}"), "syntax error at line 1, column 4: unknown tag 'frobnicate'");
  EXPECT_EQ(error_of("{# open comment"), "syntax error at line 1, column 1: missing end of comment tag");
  EXPECT_EQ(error_of("{% break %}"), "syntax error at line 1, column 4: 'break' outside of a loop");
}

TEST(Errors, UnknownFilterAndTest) {
  EXPECT_EQ(error_of("x\n{{ x|nosuchfilter }}"), "syntax error at line 2, column 6: no filter named 'nosuchfilter'");
  EXPECT_EQ(error_of("{{ x is nosuchtest }}"), "syntax error at line 1, column 9: no test named 'nosuchtest'");
  // Inside `if`, Jinja2 checks only when the filter runs.
  EXPECT_EQ(render("{% if false %}{{ x|nosuchfilter }}{% endif %}ok"), "ok");
  EXPECT_EQ(error_of("{% if true %}\n{{ x|nosuchfilter }}{% endif %}"), "template error at line 2, column 5: no filter named 'nosuchfilter'");
}

TEST(Errors, RaiseExceptionPassesItsMessage) {
  try {
    (void)render("{% if true %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}");
    FAIL() << "expected an exception";
  } catch (const RaisedException& e) {
    EXPECT_STREQ(e.what(), "Conversation roles must alternate");
  }
}

TEST(Errors, RuntimeErrorsNameTheLine) {
  EXPECT_EQ(error_of("a\nb {{ 1 / 0 }}"), "template error at line 2, column 8: division by zero");
  EXPECT_EQ(error_of("{{ 'a' + 1 }}"), "template error at line 1, column 8: unsupported operand type(s) for +: 'str' and 'int'");
  EXPECT_EQ(error_of("{{ nothing() }}"), "template error at line 1, column 11: 'nothing' is undefined");
  EXPECT_EQ(error_of("{{ 10000000000 * 10000000000 }}"), "template error at line 1, column 16: integer overflow");
}

TEST(Errors, ResourceLimits) {
  EXPECT_THROW((void)render("{{ 'a' * 100000000000 }}"), Error);
  EXPECT_THROW((void)render("{{ range(100000000000)|length }}"), Error);
  EXPECT_THROW((void)render("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"), Error);
  EXPECT_THROW((void)render("{% for i in range(1100) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"), Error);
  EXPECT_THROW((void)render("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"), Error);
  EXPECT_THROW((void)render("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}"), Error);
}

TEST(Errors, DepthLimitsProtectTheStack) {
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_THROW((void)render(chain + " }}"), Error);
  std::string filters = "{{ 'x'";
  for (int i = 0; i < 5000; ++i) filters += "|upper";
  EXPECT_THROW((void)render(filters + " }}"), Error);
  EXPECT_THROW((void)render("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}"), Error);
  nlohmann::ordered_json deep = nlohmann::ordered_json::array();
  for (int i = 0; i < 1000; ++i) deep = nlohmann::ordered_json::array({deep});
  EXPECT_THROW((void)render("{{ x }}", {{"x", deep}}), Error);
  // Moderate nesting is fine.
  EXPECT_EQ(render("{{ [[[[1]]]] }} {{ 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 }}"), "[[[[1]]]] 8");
}

TEST(Errors, NeverCrashOnGarbage) {
  const char* inputs[] = {"{{", "{%", "{#", "}}", "{{ }}", "{% %}", "{{ [ }}", "{{ {1: }}", "{{ a. }}", "{{ a[ }}",
                          "{{ 'x' is }}", "{% for x in %}", "{% set %}", "{% macro %}", "{% endfor %}", "{{ 1e }}",
                          "{{ '\\x' }}", "{{ x | }}", "{% if %}{% else %}{% else %}{% endif %}", "\xff\xfe{{ '\xc3' }}",
                          "{{ ((((((((((1)))))))))) }}", "{{ x.0.1 }}", "{{ -'a' }}", "{{ [1][1:2:0] }}"};
  for (const char* input : inputs) {
    try {
      (void)render(input);
    } catch (const Error&) {
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace bamba::jinja

// Whitespace handling as in Hugging Face's environment: trim_blocks, lstrip_blocks, the `-` and
// `+` markers, newline normalization and the dropped trailing newline. Expected strings are
// Python Jinja2's output.
#include <gtest/gtest.h>

#include "render.h"

namespace bamba::jinja {
namespace {

using testing::render;

TEST(Whitespace, TrimAndLstripBlocks) {
  EXPECT_EQ(render("a\n{% if true %}  b{% endif %}\n  {%- if true %}c{% endif %}\n\t{% for i in [1] %}\n{{ i }}\n{% endfor %}\nend\n"),
            "a\n  bc1\nend");
  EXPECT_EQ(render("  {% if true %}\n    x\n  {% endif %}\n  y\n{# c #}\nz"), "    x\n  y\nz");
}

TEST(Whitespace, CommentsAreStrippedLikeBlocks) {
  EXPECT_EQ(render("{# comment #}\n  {# c2 #}  x\n{{ 'v' }}\n{{- 'w' }}  \n  {{ 'y' }}"), "  x\nvw  \n  y");
}

TEST(Whitespace, NewlinesAreNormalizedAndTrailingOneDropped) {
  EXPECT_EQ(render("x {% if true %}\n\n{% endif %}y\r\nz\r\n"), "x \ny\nz");
}

TEST(Whitespace, MinusMarkers) {
  EXPECT_EQ(render("{%- set x = 1 -%}\n\n  {{ x }}  \n\n{%- if x -%} A {%- endif %}\n B"), "1A B");
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c {{- ' d ' -}} e"), "abc d e");
}

TEST(Whitespace, PlusMarkersDisableStripping) {
  EXPECT_EQ(render("line\n    {%+ if true %}x{% endif %}\n"), "line\n    x");
  EXPECT_EQ(render("{% if true +%}\nkeep{% endif %}"), "\nkeep");
}

TEST(Whitespace, RawKeepsItsContent) {
  // No trim_blocks after `{% raw %}` (as in Jinja2), but lstrip and trim apply around endraw.
  EXPECT_EQ(render("{% raw %}\n  {{ a }}\n  {% endraw %}\nafter"), "\n  {{ a }}\nafter");
}

TEST(Whitespace, OptionsCanBeTurnedOff) {
  EXPECT_EQ(Template("  {% if true %}\nx{% endif %}", LexOptions{false, false}).render(nullptr), "  \nx");
}

}  // namespace
}  // namespace bamba::jinja

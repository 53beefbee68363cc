// Split patterns must match as Oniguruma does in HF tokenizers; PCRE2's own `\s` and `\h` differ.
#include <gtest/gtest.h>

#include "base/error.h"
#include "tokenizer/regex.h"

namespace bamba {
namespace {

constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::vector<std::string> pieces(std::string_view pattern, std::string_view text) {
  const Regex regex(pattern, false, "test");
  std::vector<std::pair<size_t, size_t>> matches;
  regex.find_all(text, matches);
  std::vector<std::string> result;
  for (const auto& [begin, end] : matches) result.emplace_back(text.substr(begin, end - begin));
  return result;
}

using Pieces = std::vector<std::string>;

TEST(Regex, WhiteSpaceIsUnicodeWhiteSpace) {
  // U+FEFF is not white space, so it joins the following piece's punctuation class; the example
  // from the data README.
  EXPECT_EQ(pieces(kLlama3Pattern, "   \uFEFFhello"), (Pieces{"  ", " \uFEFF", "hello"}));
  // U+0085 (NEL) is white space.
  EXPECT_EQ(pieces(R"(\s+)", "a\u0085\u00A0\u3000b"), (Pieces{"\u0085\u00A0\u3000"}));
  EXPECT_EQ(pieces(R"(\S+)", "a\u0085b"), (Pieces{"a", "b"}));
  // U+180E (Mongolian vowel separator) is not, although PCRE2's own `\s` takes it.
  EXPECT_EQ(pieces(R"(\s)", "\u180E"), Pieces{});
  EXPECT_EQ(pieces(R"([^\s])", "\u180E \uFEFF"), (Pieces{"\u180E", "\uFEFF"}));
  EXPECT_EQ(pieces(R"([\S])", " x\u0085"), (Pieces{"x"}));
}

TEST(Regex, CaseInsensitiveGroupAndProperties) {
  EXPECT_EQ(pieces(kLlama3Pattern, "I'M HERE'S"), (Pieces{"I", "'M", " HERE", "'S"}));
  EXPECT_EQ(pieces(kLlama3Pattern, "12345 caf\u00E9"), (Pieces{"123", "45", " caf\u00E9"}));
  // A combining mark is not a letter: it lands in the "other" class.
  EXPECT_EQ(pieces(kLlama3Pattern, "e\u0301x"), (Pieces{"e", "\u0301x"}));
}

TEST(Regex, TranslationKeepsEverythingElse) {
  EXPECT_EQ(oniguruma_to_pcre2(R"(\p{L}+|\\s|\Q\s[\E|[]\s]|[^]a]|[[:alpha:]\d])"),
            R"(\p{L}+|\\s|\Q\s[\E|[]\x{9}-\x{d}\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}-\x{2029})"
            R"(\x{202f}\x{205f}\x{3000}]|[^]a]|[[:alpha:]\d])");
  EXPECT_EQ(oniguruma_to_pcre2(R"(\h\H)"), R"([\x{30}-\x{39}\x{41}-\x{46}\x{61}-\x{66}])"
                                           R"([\x{0}-\x{2f}\x{3a}-\x{40}\x{47}-\x{60}\x{67}-\x{10ffff}])");
  EXPECT_EQ(pieces(R"(\h+)", "xdeadBEEFz"), (Pieces{"deadBEEF"}));
}

TEST(Regex, EmptyMatchesAdvance) {
  // As Oniguruma's find_iter: no empty match right where the previous match ended.
  EXPECT_EQ(pieces("a*", "baa"), (Pieces{"", "aa"}));
  EXPECT_EQ(pieces("x*", ""), (Pieces{""}));
}

TEST(Regex, LiteralPattern) {
  const Regex regex("a.b", true, "test");
  std::vector<std::pair<size_t, size_t>> matches;
  regex.find_all("axb a.b", matches);
  EXPECT_EQ(matches, (std::vector<std::pair<size_t, size_t>>{{4, 7}}));
}

TEST(Regex, BadPatternThrowsWithContext) {
  try {
    const Regex regex("(a|b", false, "tokenizer.json: field \"pre_tokenizer.pattern.Regex\"");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pre_tokenizer.pattern.Regex"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("invalid regex"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bamba

// The Llama-3 tokenizer (Bamba's) against golden ids from Hugging Face tokenizers, and decode round trips.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace bamba {
namespace {

struct Golden {
  std::string text;
  std::vector<int32_t> ids, ids_with_bos;
  std::optional<std::vector<int32_t>> ids_specials_as_text;
};

std::vector<Golden> read_golden() {
  std::ifstream in(test::llama3_dir() / "golden-public.jsonl");
  std::vector<Golden> result;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    Golden g{j.at("text"), j.at("ids"), j.at("ids_with_bos"), std::nullopt};
    if (j.contains("ids_specials_as_text")) g.ids_specials_as_text = j.at("ids_specials_as_text");
    result.push_back(std::move(g));
  }
  return result;
}

class Llama3 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokenizer_ = new Tokenizer(Tokenizer::load(test::llama3_dir() / "tokenizer.json"));
    golden_ = new std::vector<Golden>(read_golden());
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete golden_;
  }
  static const Tokenizer& tok() { return *tokenizer_; }
  static const std::vector<Golden>& golden() { return *golden_; }

 private:
  static inline Tokenizer* tokenizer_ = nullptr;
  static inline std::vector<Golden>* golden_ = nullptr;
};

TEST_F(Llama3, GoldenIds) {
  ASSERT_EQ(golden().size(), 323u);
  size_t with_specials_as_text = 0;
  for (const Golden& g : golden()) {
    SCOPED_TRACE(g.text);
    EXPECT_EQ(tok().encode(g.text, /*add_special_tokens=*/false), g.ids);
    EXPECT_EQ(tok().encode(g.text), g.ids_with_bos);
    if (g.ids_specials_as_text) {
      ++with_specials_as_text;
      EXPECT_EQ(tok().encode(g.text, false, /*parse_special=*/false), *g.ids_specials_as_text);
    }
  }
  EXPECT_EQ(with_specials_as_text, 16u);
}

TEST_F(Llama3, GoldenRoundTrip) {
  for (const Golden& g : golden()) {
    EXPECT_EQ(tok().decode(g.ids), g.text);
    EXPECT_EQ(tok().decode(g.ids_with_bos), "<|begin_of_text|>" + g.text);
    EXPECT_EQ(tok().decode(g.ids_with_bos, /*skip_special_tokens=*/true), tok().decode(g.ids, true));
  }
}

// Random strings drawn from the character classes the pre-tokenizer distinguishes.
std::string random_text(std::mt19937& rng) {
  static const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {'a', 'z'}, {'A', 'Z'},       {'0', '9'},         {' ', '/'},         {0x09, 0x0D},     {0x80, 0xFF},
      {0x85, 0x85}, {0xFEFF, 0xFEFF}, {0x2000, 0x200F}, {0x0300, 0x036F}, {0x0900, 0x097F}, {0x4E00, 0x9FFF},
      {0xAC00, 0xD7A3}, {0x1F300, 0x1F6FF}, {0x1F3FB, 0x1F3FF}, {0x10000, 0x10FFFF}, {0x0E000, 0xFFFD}};
  std::uniform_int_distribution<size_t> length(0, 40), pick(0, ranges.size() - 1);
  std::string text;
  for (size_t n = length(rng), i = 0; i < n; ++i) {
    const auto& [first, last] = ranges[pick(rng)];
    char32_t cp = std::uniform_int_distribution<char32_t>(first, last)(rng);
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
    if (rng() % 16 == 0) text += "'s";
    utf8::append(cp, text);
  }
  return text;
}

TEST_F(Llama3, RandomRoundTrip) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_text(rng);
    const auto ids = tok().encode(text, false);
    ASSERT_EQ(tok().decode(ids), text) << "case " << i;
  }
}

TEST_F(Llama3, SpecialTokensComeFromTheFiles) {
  EXPECT_EQ(tok().vocab_size(), 128256);
  EXPECT_EQ(tok().bos_token(), "<|begin_of_text|>");
  EXPECT_EQ(tok().eos_token(), "<|end_of_text|>");
  EXPECT_EQ(tok().bos_id(), 128000);
  EXPECT_EQ(tok().eos_id(), 128001);
  EXPECT_EQ(tok().add_bos_token(), true);
  EXPECT_EQ(tok().token_to_id("<|eot_id|>"), 128009);
  EXPECT_EQ(tok().token_to_id("Hello"), 9906);
  EXPECT_EQ(tok().token_to_id("<|nope|>"), std::nullopt);
  EXPECT_EQ(tok().id_to_token(9906), "Hello");
  EXPECT_EQ(tok().id_to_token(1917), "Ġworld");
  EXPECT_EQ(tok().id_to_token(-1), std::nullopt);
  EXPECT_EQ(tok().id_to_token(128256), std::nullopt);
  EXPECT_TRUE(tok().is_special(128009));
  EXPECT_FALSE(tok().is_special(9906));
  EXPECT_FALSE(tok().is_special(999999));
  EXPECT_EQ(tok().chat_template(), "");  // this release keeps no template in tokenizer_config.json
}

TEST_F(Llama3, DecodeSkipsSpecialsAndUnknownIds) {
  const std::vector<int32_t> ids = {128000, 9906, 128009, 1917, -5, 200000};
  EXPECT_EQ(tok().decode(ids), "<|begin_of_text|>Hello<|eot_id|> world");
  EXPECT_EQ(tok().decode(ids, true), "Hello world");
}

TEST_F(Llama3, InvalidUtf8Throws) {
  EXPECT_THROW((void)tok().encode("ab\xff"), Error);
  EXPECT_THROW((void)tok().encode("\xe2\x82"), Error);
  EXPECT_THROW((void)tok().encode("\xed\xa0\x80"), Error);  // a UTF-16 surrogate
}

TEST_F(Llama3, LongInputs) {
  for (const std::string& text : {std::string(200000, ' '), std::string(200000, 'a'), std::string(100000, '\n'),
                                  std::string(50000, '7')}) {
    const auto ids = tok().encode(text, false);
    EXPECT_EQ(tok().decode(ids), text);
  }
}

TEST_F(Llama3, ConcurrentEncodeAgrees) {
  std::vector<std::vector<int32_t>> expected;
  for (const Golden& g : golden()) expected.push_back(tok().encode(g.text));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < golden().size(); ++i)
          if (tok().encode(golden()[i].text) != expected[i]) ++mismatches;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(Llama3, CopiesShareTheData) {
  const Tokenizer copy = tok();
  Tokenizer moved = Tokenizer(copy);
  EXPECT_EQ(moved.encode("Hello world"), (std::vector<int32_t>{128000, 9906, 1917}));
}

}  // namespace
}  // namespace bamba

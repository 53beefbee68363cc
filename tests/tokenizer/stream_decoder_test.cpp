// StreamDecoder: its pieces join to `decode` and none of them ends inside a UTF-8 character.
#include <gtest/gtest.h>

#include <random>

#include "test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace bamba {
namespace {

class Stream : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { tokenizer_ = new Tokenizer(Tokenizer::load(test::llama3_dir() / "tokenizer.json")); }
  static void TearDownTestSuite() { delete tokenizer_; }
  static const Tokenizer& tok() { return *tokenizer_; }

  // Streams `ids`, checking every piece is valid UTF-8, and returns the joined text.
  static std::string stream(const std::vector<int32_t>& ids, bool skip_special = false) {
    StreamDecoder decoder(tok(), skip_special);
    std::string joined;
    for (const int32_t id : ids) {
      const std::string piece = decoder.push(id);
      EXPECT_EQ(utf8::find_invalid(piece), std::nullopt) << "after id " << id;
      joined += piece;
    }
    const std::string rest = decoder.flush();
    EXPECT_EQ(utf8::find_invalid(rest), std::nullopt);
    return joined + rest;
  }

  // The id of the token for a single byte.
  static int32_t byte_token(unsigned char byte) {
    std::string token;
    // Bytes >= 0x80 are not printable ASCII: their byte-level characters are found by round trip.
    for (int32_t id = 0; id < tok().vocab_size(); ++id) {
      token.clear();
      tok().append_token_bytes(id, false, token);
      if (token.size() == 1 && static_cast<unsigned char>(token[0]) == byte) return id;
    }
    ADD_FAILURE() << "no token for byte " << int(byte);
    return 0;
  }

 private:
  static inline Tokenizer* tokenizer_ = nullptr;
};

TEST_F(Stream, MultiByteCharactersSplitAcrossTokens) {
  for (const std::string text :
       {"Hello 👋🏽 world", "👨‍👩‍👧‍👦 family", "🇯🇵🇫🇷", "日本語のテキストです。", "한국어 텍스트", "ℕ𝔸𝕄𝔼 𝒳 ∀ε>0",
        "naïve café — “quotes” …", "\U0001F9D1\u200D\U0001F52C", "𓀀𓀁𓀂"}) {
    const auto ids = tok().encode(text);
    EXPECT_EQ(stream(ids), tok().decode(ids)) << text;
    EXPECT_EQ(stream(ids, true), text);
  }
}

TEST_F(Stream, HoldsBackOnlyUnfinishedCharacters) {
  // U+1F600 is F0 9F 98 80; feed it one byte token at a time.
  StreamDecoder decoder(tok());
  EXPECT_EQ(decoder.push(byte_token('a')), "a");
  EXPECT_EQ(decoder.push(byte_token(0xF0)), "");
  EXPECT_EQ(decoder.push(byte_token(0x9F)), "");
  EXPECT_EQ(decoder.push(byte_token(0x98)), "");
  EXPECT_EQ(decoder.push(byte_token(0x80)), "\U0001F600");
  // A byte that can never start a character is replaced at once; so is a cut-short one followed by ASCII.
  EXPECT_EQ(decoder.push(byte_token(0xFF)), "\uFFFD");
  EXPECT_EQ(decoder.push(byte_token(0xE2)), "");
  EXPECT_EQ(decoder.push(byte_token('b')), "\uFFFDb");
  // A cut-short character at the end becomes U+FFFD on flush.
  EXPECT_EQ(decoder.push(byte_token(0xE2)), "");
  EXPECT_EQ(decoder.push(byte_token(0x82)), "");
  EXPECT_EQ(decoder.flush(), "\uFFFD");
  EXPECT_EQ(decoder.flush(), "");
}

TEST_F(Stream, SpecialTokens) {
  const std::vector<int32_t> ids = {128000, 9906, 128009};
  EXPECT_EQ(stream(ids), "<|begin_of_text|>Hello<|eot_id|>");
  EXPECT_EQ(stream(ids, true), "Hello");
}

TEST_F(Stream, RandomIdsMatchDecode) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any_id(0, tok().vocab_size() + 10);
  // Low ids include the single-byte tokens, which cut characters most often.
  std::uniform_int_distribution<int32_t> byte_id(0, 255);
  for (int round = 0; round < 300; ++round) {
    std::vector<int32_t> ids(std::uniform_int_distribution<int>(0, 30)(rng));
    for (auto& id : ids) id = rng() % 2 ? any_id(rng) : byte_id(rng);
    const bool skip = round % 2;
    ASSERT_EQ(stream(ids, skip), tok().decode(ids, skip)) << "round " << round;
  }
}

}  // namespace
}  // namespace bamba

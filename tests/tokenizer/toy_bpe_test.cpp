// A small hand-written tokenizer.json exercising the general paths: ["a","b"] merges, ignore_merges,
// ByteLevel with the GPT-2 regex, Split behaviors, added-token flags, post-processors, tokenizer_config.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "tokenizer/tokenizer.h"

namespace bamba {
namespace {

using Ids = std::vector<int32_t>;
using nlohmann::json;

json byte_level(bool add_prefix_space, bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true},
          {"use_regex", use_regex}};
}

// Vocabulary in GPT-2 byte-level form ("Ġ" is the space byte).
json toy_tokenizer() {
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       json::array({
           {{"id", 12}, {"content", "<s>"}, {"special", true}, {"normalized", false}},
           {{"id", 13}, {"content", "[X]"}, {"special", false}, {"lstrip", true}, {"rstrip", true}},
           {{"id", 14}, {"content", "ab!"}, {"special", false}, {"single_word", true}, {"normalized", false}},
       })},
      {"normalizer", nullptr},
      {"pre_tokenizer", byte_level(false, true)},
      {"post_processor", nullptr},
      {"decoder", byte_level(true, true)},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab",
         {{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}, {"Ġ", 4}, {"ab", 5}, {"abc", 6}, {"Ġa", 7}, {"cd", 8}, {"!", 9},
          {"<unk>", 10}, {"Ġab", 11}, {"<", 15}, {"s", 16}, {">", 17}, {"-", 18}, {"--", 19}, {"a-", 20},
          {"-b", 21}}},
        {"merges", json::array({json::array({"a", "b"}), json::array({"c", "d"}), json::array({"Ġ", "a"}),
                                json::array({"Ġa", "b"}), json::array({"-", "-"}), json::array({"a", "-"}),
                                json::array({"-", "b"})})}}},
  };
}

Tokenizer load(const json& tokenizer, const test::ScratchDir& dir) {
  return Tokenizer::load(dir.write("tokenizer.json", tokenizer.dump()));
}

TEST(ToyBpe, MergesByRank) {
  const test::ScratchDir dir;
  const Tokenizer tok = load(toy_tokenizer(), dir);
  // Pieces "abc", "Ġabcd", "!": a+b (rank 0) wins over Ġ+a (rank 2), after which Ġ+ab has no merge.
  EXPECT_EQ(tok.encode("abc abcd!"), (Ids{5, 2, 4, 5, 8, 9}));
  EXPECT_EQ(tok.encode(" ab"), (Ids{4, 5}));
  EXPECT_EQ(tok.decode(Ids{5, 2, 4, 5, 8, 9}), "abc abcd!");
  EXPECT_EQ(tok.vocab_size(), 22);
  EXPECT_EQ(tok.token_to_id("Ġab"), 11);
}

TEST(ToyBpe, IgnoreMergesEmitsWholeVocabPieces) {
  json spec = toy_tokenizer();
  spec["model"]["ignore_merges"] = true;
  const test::ScratchDir dir;
  const Tokenizer tok = load(spec, dir);
  EXPECT_EQ(tok.encode("abc abcd!"), (Ids{6, 4, 5, 8, 9}));
  EXPECT_EQ(tok.encode(" ab"), (Ids{11}));
}

TEST(ToyBpe, StringMergesAreEquivalent) {
  json spec = toy_tokenizer();
  json merges = json::array();
  for (const auto& m : spec["model"]["merges"]) merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
  spec["model"]["merges"] = merges;
  const test::ScratchDir dir;
  EXPECT_EQ(load(spec, dir).encode("abc abcd!"), (Ids{5, 2, 4, 5, 8, 9}));
}

TEST(ToyBpe, UnknownCharacters) {
  json spec = toy_tokenizer();
  const test::ScratchDir dir;
  EXPECT_EQ(load(spec, dir).encode("zzab"), (Ids{5}));  // no unk token: dropped, as in HF
  spec["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(load(spec, dir).encode("zzab"), (Ids{10, 10, 5}));
  spec["model"]["fuse_unk"] = true;
  EXPECT_EQ(load(spec, dir).encode("zzab"), (Ids{10, 5}));
}

TEST(ToyBpe, PrefixSpace) {
  json spec = toy_tokenizer();
  spec["pre_tokenizer"] = byte_level(true, true);
  const test::ScratchDir dir;
  const Tokenizer tok = load(spec, dir);
  EXPECT_EQ(tok.encode("ab"), tok.encode(" ab"));
  EXPECT_EQ(tok.encode("ab"), (Ids{4, 5}));
}

TEST(ToyBpe, SplitBehaviors) {
  const auto encode_with = [](const std::string& behavior, bool invert) {
    json spec = toy_tokenizer();
    spec["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}},
                      byte_level(false, false)})}};
    const test::ScratchDir dir;
    return load(spec, dir).encode("a-b--c");
  };
  EXPECT_EQ(encode_with("Isolated", false), (Ids{0, 18, 1, 18, 18, 2}));
  EXPECT_EQ(encode_with("Removed", false), (Ids{0, 1, 2}));
  EXPECT_EQ(encode_with("MergedWithPrevious", false), (Ids{20, 1, 18, 18, 2}));
  EXPECT_EQ(encode_with("MergedWithNext", false), (Ids{0, 21, 18, 18, 2}));
  EXPECT_EQ(encode_with("Contiguous", false), (Ids{0, 18, 1, 19, 2}));
  EXPECT_EQ(encode_with("Removed", true), (Ids{18, 18, 18}));
}

TEST(ToyBpe, RegexSplitWithoutByteLevelRegex) {
  json spec = toy_tokenizer();
  spec["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers", json::array({{{"type", "Split"},
                                      {"pattern", {{"Regex", R"(\s+)"}}},
                                      {"behavior", "Removed"},
                                      {"invert", false}},
                                     byte_level(false, false)})}};
  const test::ScratchDir dir;
  EXPECT_EQ(load(spec, dir).encode("ab\u0085cd\u3000ab"), (Ids{5, 8, 5}));
}

TEST(ToyBpe, AddedTokens) {
  const test::ScratchDir dir;
  const Tokenizer tok = load(toy_tokenizer(), dir);
  EXPECT_EQ(tok.encode("a<s>b"), (Ids{0, 12, 1}));
  EXPECT_EQ(tok.encode("a<s>b", true, /*parse_special=*/false), (Ids{0, 15, 16, 17, 1}));
  // lstrip/rstrip take the spaces around "[X]"; a non-special added token is matched even when
  // special tokens are not parsed.
  EXPECT_EQ(tok.encode("a [X] b"), (Ids{0, 13, 1}));
  EXPECT_EQ(tok.encode("a [X] b", true, false), (Ids{0, 13, 1}));
  // single_word: "ab!" only when not glued to a word.
  EXPECT_EQ(tok.encode("ab! c"), (Ids{14, 4, 2}));
  EXPECT_EQ(tok.encode("cab! "), (Ids{2, 5, 9, 4}));
  EXPECT_TRUE(tok.is_special(12));
  EXPECT_FALSE(tok.is_special(13));
  EXPECT_EQ(tok.token_to_id("[X]"), 13);
  EXPECT_EQ(tok.decode(Ids{0, 12, 13, 1}), "a<s>[X]b");
  EXPECT_EQ(tok.decode(Ids{0, 12, 13, 1}, true), "a[X]b");
}

TEST(ToyBpe, AddedTokenWithPlainSpaceDecodesAsWritten) {
  json spec = toy_tokenizer();
  spec["added_tokens"].push_back({{"id", 30}, {"content", "a b"}, {"special", false}});
  const test::ScratchDir dir;
  const Tokenizer tok = load(spec, dir);
  EXPECT_EQ(tok.encode("a bc"), (Ids{30, 2}));
  EXPECT_EQ(tok.decode(Ids{30, 2}), "a bc");
  EXPECT_EQ(tok.vocab_size(), 31);
  EXPECT_EQ(tok.id_to_token(25), std::nullopt);
}

TEST(ToyBpe, PostProcessors) {
  json spec = toy_tokenizer();
  const json bos_template = {
      {"type", "TemplateProcessing"},
      {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                              {{"SpecialToken", {{"id", "!"}, {"type_id", 0}}}}})},
      {"pair", json::array()},
      {"special_tokens",
       {{"<s>", {{"id", "<s>"}, {"ids", {12}}, {"tokens", {"<s>"}}}},
        {"!", {{"id", "!"}, {"ids", {9}}, {"tokens", {"!"}}}}}}};
  spec["post_processor"] = {{"type", "Sequence"},
                            {"processors", json::array({byte_level(true, true), bos_template, bos_template})}};
  const test::ScratchDir dir;
  const Tokenizer tok = load(spec, dir);
  EXPECT_EQ(tok.encode("ab"), (Ids{12, 12, 5, 9, 9}));
  EXPECT_EQ(tok.encode("ab", false), (Ids{5}));
  EXPECT_EQ(tok.encode("", true), (Ids{12, 12, 9, 9}));
}

TEST(ToyBpe, NoConfigMeansNoBosEos) {
  const test::ScratchDir dir;
  const Tokenizer tok = load(toy_tokenizer(), dir);
  EXPECT_EQ(tok.bos_id(), std::nullopt);
  EXPECT_EQ(tok.eos_id(), std::nullopt);
  EXPECT_EQ(tok.bos_token(), "");
  EXPECT_EQ(tok.chat_template(), "");
  EXPECT_EQ(tok.add_bos_token(), std::nullopt);
  EXPECT_EQ(tok.encode("ab"), (Ids{5}));  // null post-processor: nothing added
}

TEST(ToyBpe, ConfigForms) {
  const test::ScratchDir dir;
  dir.write("tokenizer_config.json", json{{"bos_token", {{"content", "<s>"}, {"lstrip", false}}},
                                          {"eos_token", "!"},
                                          {"add_bos_token", false},
                                          {"chat_template", json::array({{{"name", "tool_use"}, {"template", "T"}},
                                                                         {{"name", "default"}, {"template", "D"}}})}}
                                         .dump());
  const Tokenizer tok = load(toy_tokenizer(), dir);
  EXPECT_EQ(tok.bos_id(), 12);
  EXPECT_EQ(tok.eos_id(), 9);
  EXPECT_EQ(tok.bos_token(), "<s>");
  EXPECT_EQ(tok.add_bos_token(), false);
  EXPECT_EQ(tok.chat_template(), "D");
}

TEST(ToyBpe, ChatTemplateFromJinjaFile) {
  const test::ScratchDir dir;
  dir.write("tokenizer_config.json", R"({"eos_token": null})");
  dir.write("chat_template.jinja", "{{ messages }}");
  const Tokenizer tok = load(toy_tokenizer(), dir);
  EXPECT_EQ(tok.chat_template(), "{{ messages }}");
  EXPECT_EQ(tok.eos_id(), std::nullopt);
}

}  // namespace
}  // namespace bamba

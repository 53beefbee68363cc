// Bad tokenizer files give a bamba::Error whose message names the file and the field, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"

namespace bamba {
namespace {

using nlohmann::json;

json minimal_tokenizer() {
  return {{"added_tokens", json::array({{{"id", 3}, {"content", "<s>"}, {"special", true}}})},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", json::array({"a b"})}}}};
}

// Loads `files` (name -> content) from a scratch folder and returns the error message ("" if none).
std::string load_files_error(const std::vector<std::pair<std::string, std::string>>& files) {
  const test::ScratchDir dir;
  for (const auto& [name, text] : files) dir.write(name, text);
  try {
    (void)Tokenizer::load(dir.path() / "tokenizer.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string load_error(const json& tokenizer) { return load_files_error({{"tokenizer.json", tokenizer.dump()}}); }

MATCHER_P2(NamesFileAndField, file, field, "") {
  return arg.find(file) != std::string::npos && arg.find(field) != std::string::npos;
}

TEST(TokenizerErrors, MinimalLoads) {
  EXPECT_EQ(load_error(minimal_tokenizer()), "");
  // Stages left out count as null, except the decoder, which decode needs.
  json spec = minimal_tokenizer();
  for (const char* key : {"added_tokens", "normalizer", "pre_tokenizer", "post_processor"}) spec.erase(key);
  EXPECT_EQ(load_error(spec), "");
  spec.erase("decoder");
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "decoder"));
}

TEST(TokenizerErrors, MissingFile) {
  EXPECT_THAT(load_files_error({}),
              NamesFileAndField("tokenizer.json", "cannot open"));
}

TEST(TokenizerErrors, MalformedJson) {
  EXPECT_THAT(load_files_error({{"tokenizer.json", R"({"model": {"type": "BPE",)"}}),
              NamesFileAndField("tokenizer.json", "malformed JSON"));
  EXPECT_THAT(load_files_error({{"tokenizer.json", "[1, 2]"}}), NamesFileAndField("tokenizer.json", "expected an object"));
}

TEST(TokenizerErrors, UnknownModelType) {
  json spec = minimal_tokenizer();
  spec["model"]["type"] = "Unigram";
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.type"));
  EXPECT_THAT(load_error(spec), ::testing::HasSubstr("Unigram"));
}

TEST(TokenizerErrors, MissingVocabOrMerges) {
  for (const char* key : {"vocab", "merges"}) {
    json spec = minimal_tokenizer();
    spec["model"].erase(key);
    EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", std::string("model.") + key));
  }
  json spec = minimal_tokenizer();
  spec["model"]["vocab"] = json::array();
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.vocab"));
  spec = minimal_tokenizer();
  spec["model"]["vocab"]["a"] = "zero";
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.vocab"));
}

TEST(TokenizerErrors, MergeWithUnknownToken) {
  json spec = minimal_tokenizer();
  spec["model"]["merges"].push_back("a c");
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.merges"));
  EXPECT_THAT(load_error(spec), ::testing::HasSubstr("\"c\""));
  spec = minimal_tokenizer();
  spec["model"]["merges"].push_back(json::array({"b", "a"}));  // "ba" is not in the vocab
  EXPECT_THAT(load_error(spec), ::testing::HasSubstr("\"ba\""));
  spec = minimal_tokenizer();
  spec["model"]["merges"].push_back("a b c");
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.merges"));
  spec = minimal_tokenizer();
  spec["model"]["merges"].push_back(json::array({"a"}));
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.merges"));
}

TEST(TokenizerErrors, BadRegex) {
  json spec = minimal_tokenizer();
  spec["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers", json::array({{{"type", "Split"},
                                                           {"pattern", {{"Regex", "(\\p{L}+"}}},
                                                           {"behavior", "Isolated"},
                                                           {"invert", false}}})}};
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "pre_tokenizer.pretokenizers[0].pattern.Regex"));
  spec["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"Regex", "a"}};
  spec["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways";
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "behavior"));
}

TEST(TokenizerErrors, UnsupportedStages) {
  json spec = minimal_tokenizer();
  spec["normalizer"] = {{"type", "NFKC"}};
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "normalizer.type"));
  spec = minimal_tokenizer();
  spec["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "pre_tokenizer.type"));
  spec = minimal_tokenizer();
  spec["post_processor"] = {{"type", "BertProcessing"}};
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "post_processor.type"));
  spec = minimal_tokenizer();
  spec["decoder"] = {{"type", "WordPiece"}};
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "decoder.type"));
  spec = minimal_tokenizer();
  spec["model"]["continuing_subword_prefix"] = "";  // as GPT-2's file has it: no prefix
  EXPECT_EQ(load_error(spec), "");
  spec["model"]["continuing_subword_prefix"] = "##";
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.continuing_subword_prefix"));
  spec = minimal_tokenizer();
  spec["model"]["dropout"] = 0.1;
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model.dropout"));
  spec = minimal_tokenizer();
  spec.erase("model");
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "model"));
}

TEST(TokenizerErrors, BadAddedTokensAndTemplate) {
  json spec = minimal_tokenizer();
  spec["added_tokens"][0].erase("content");
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "added_tokens[0].content"));
  spec = minimal_tokenizer();
  spec["added_tokens"][0]["id"] = -1;
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "added_tokens[0].id"));
  spec = minimal_tokenizer();
  spec["post_processor"] = {{"type", "TemplateProcessing"},
                            {"single", json::array({{{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}},
                                                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                            {"special_tokens", json::object()}};
  EXPECT_THAT(load_error(spec), NamesFileAndField("tokenizer.json", "post_processor.special_tokens.<bos>"));
}

TEST(TokenizerErrors, BadConfig) {
  const std::string tokenizer = minimal_tokenizer().dump();
  EXPECT_THAT(load_files_error({{"tokenizer.json", tokenizer}, {"tokenizer_config.json", "{"}}),
              NamesFileAndField("tokenizer_config.json", "malformed JSON"));
  EXPECT_THAT(load_files_error({{"tokenizer.json", tokenizer}, {"tokenizer_config.json", R"({"bos_token": "<bos>"})"}}),
              NamesFileAndField("tokenizer_config.json", "bos_token"));
  EXPECT_THAT(load_files_error({{"tokenizer.json", tokenizer}, {"tokenizer_config.json", R"({"eos_token": 7})"}}),
              NamesFileAndField("tokenizer_config.json", "eos_token"));
  EXPECT_THAT(load_files_error({{"tokenizer.json", tokenizer}, {"tokenizer_config.json", R"({"add_bos_token": "yes"})"}}),
              NamesFileAndField("tokenizer_config.json", "add_bos_token"));
  EXPECT_EQ(load_files_error({{"tokenizer.json", tokenizer}, {"tokenizer_config.json", R"({"bos_token": "<s>"})"}}), "");
}

}  // namespace
}  // namespace bamba

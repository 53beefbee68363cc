// read_json_file: plain JSON, Python's non-finite tokens, and errors naming file and position.
#include <gtest/gtest.h>

#include <cmath>

#include "io/json_file.h"
#include "test_files.h"

namespace bamba::io {
namespace {

using testing::expect_error;

nlohmann::json parse(std::string_view text) { return parse_json_text(text, "inline.json"); }

TEST(JsonFile, ReadsAFile) {
  testing::TempDir dir;
  testing::write_bytes(dir / "config.json", R"({"hidden_size": 64, "rope_scaling": null, "name": "bamba"})");
  const nlohmann::json config = read_json_file(dir / "config.json");
  EXPECT_EQ(config.at("hidden_size").get<int>(), 64);
  EXPECT_TRUE(config.at("rope_scaling").is_null());
  EXPECT_EQ(config.at("name").get<std::string>(), "bamba");
}

TEST(JsonFile, AcceptsPythonNonFiniteTokens) {
  const nlohmann::json j = parse(R"({"time_step_limit": [0.0, Infinity], "low": -Infinity, "x": NaN, "n": 3})");
  EXPECT_EQ(j["time_step_limit"][0].get<double>(), 0.0);
  EXPECT_EQ(j["time_step_limit"][1].get<double>(), HUGE_VAL);
  EXPECT_EQ(j["low"].get<double>(), -HUGE_VAL);
  EXPECT_TRUE(std::isnan(j["x"].get<double>()));
  EXPECT_EQ(j["n"].get<int>(), 3);
}

TEST(JsonFile, NonFiniteTokensInsideStringsStayText) {
  const nlohmann::json j = parse(R"({"a": "Infinity", "b\"NaN": [1, NaN, "NaN \" Infinity", -2.5e3, Infinity]})");
  EXPECT_EQ(j["a"].get<std::string>(), "Infinity");
  const nlohmann::json& b = j["b\"NaN"];
  EXPECT_EQ(b[0].get<int>(), 1);
  EXPECT_TRUE(std::isnan(b[1].get<double>()));
  EXPECT_EQ(b[2].get<std::string>(), "NaN \" Infinity");
  EXPECT_EQ(b[3].get<double>(), -2500.0);
  EXPECT_EQ(b[4].get<double>(), HUGE_VAL);
}

TEST(JsonFile, NonFiniteTokensAsWholeDocument) {
  EXPECT_EQ(parse("Infinity").get<double>(), HUGE_VAL);
  EXPECT_TRUE(std::isnan(parse("  NaN\n").get<double>()));
}

TEST(JsonFile, LookalikeTokensAreErrors) {
  expect_error([] { (void)parse(R"({"a": Infinityx})"); }, "inline.json", "invalid JSON");
  expect_error([] { (void)parse(R"({"a": +Infinity})"); }, "inline.json", "invalid JSON");
  expect_error([] { (void)parse(R"({"a": inf})"); }, "inline.json", "invalid JSON");
  expect_error([] { (void)parse(R"({Infinity: 1})"); }, "inline.json", "invalid JSON");
}

TEST(JsonFile, SyntaxErrorNamesFileAndPosition) {
  testing::TempDir dir;
  const auto path = dir / "generation_config.json";
  testing::write_bytes(path, "{\n  \"a\": 1,\n  \"b\": tru }");
  expect_error([&] { (void)read_json_file(path); }, path.string(), "line 3, column 11", "syntax error");
}

TEST(JsonFile, PositionsSurviveNonFiniteTokens) {
  // The replaced tokens keep their length, so the reported column is the file's.
  expect_error([] { (void)parse("[Infinity, NaN, @]"); }, "line 1, column 17");
}

TEST(JsonFile, InvalidUtf8IsAnError) {
  expect_error([] { (void)parse("{\"a\": \"\xc3\x28\"}"); }, "inline.json", "UTF-8");
}

TEST(JsonFile, EmptyAndMissingFiles) {
  testing::TempDir dir;
  testing::write_bytes(dir / "empty.json", "");
  expect_error([&] { (void)read_json_file(dir / "empty.json"); }, "empty.json", "invalid JSON");
  expect_error([&] { (void)read_json_file(dir / "absent.json"); }, "absent.json", "cannot open");
}

}  // namespace
}  // namespace bamba::io

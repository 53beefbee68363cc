// Parsing of OpenAI request bodies: accepted shapes, defaults, and a 400 naming the field
// for each kind of bad value.
#include "server/openai_request.h"

#include <gtest/gtest.h>

#include "server/api_error.h"
#include "server/http_server.h"

namespace bamba::server {
namespace {

using nlohmann::json;

CompletionRequest parse(const json& body, Endpoint endpoint = Endpoint::Completions) {
  return parse_completion_request(body, endpoint, SamplingParams{});
}

// The `param` of the ApiError that parsing `body` throws.
std::string rejected_param(const json& body, Endpoint endpoint = Endpoint::Completions) {
  try {
    (void)parse(body, endpoint);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.param.empty() ? "<none>" : e.param;
  }
  return "<accepted>";
}

TEST(OpenAiRequest, PromptShapes) {
  EXPECT_EQ(*parse({{"model", "m"}, {"prompt", "hi"}}).prompts.at(0).text, "hi");
  EXPECT_EQ(parse({{"model", "m"}, {"prompt", {"a", "b"}}}).prompts.size(), 2u);
  EXPECT_EQ(parse({{"model", "m"}, {"prompt", {1, 2, 3}}}).prompts.at(0).ids, (std::vector<int32_t>{1, 2, 3}));
  const auto nested = parse({{"model", "m"}, {"prompt", {{1, 2}, {3}}}});
  ASSERT_EQ(nested.prompts.size(), 2u);
  EXPECT_EQ(nested.prompts[1].ids, std::vector<int32_t>{3});
}

TEST(OpenAiRequest, FieldsAndDefaults) {
  const auto r = parse({{"model", "m"}, {"prompt", "x"}, {"max_tokens", 7}, {"temperature", 0}, {"top_k", 5},
                        {"min_p", 0.1}, {"repetition_penalty", 1.1}, {"seed", 42}, {"stop", "\n"}, {"n", 2},
                        {"stream", true}, {"stream_options", {{"include_usage", true}}}, {"logprobs", 3},
                        {"user", "ignored"}});
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_EQ(r.sampling.top_k, 5);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(r.n, 2);
  EXPECT_TRUE(r.stream && r.include_usage && r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_FALSE(parse({{"model", "m"}, {"prompt", "x"}, {"max_tokens", nullptr}}).max_tokens.has_value());
  EXPECT_EQ(parse({{"model", "m"}, {"prompt", "x"}, {"max_completion_tokens", 3}}).max_tokens, 3);
}

TEST(OpenAiRequest, ChatMessagesAndLogprobs) {
  const json body = {{"model", "m"},
                     {"messages", {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "a"}},
                                                                   {{"type", "text"}, {"text", "b"}}}}}}},
                     {"logprobs", true},
                     {"top_logprobs", 2}};
  const auto r = parse(body, Endpoint::ChatCompletions);
  EXPECT_EQ(r.messages[0]["content"], "ab");
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 2);
}

TEST(OpenAiRequest, BadValuesNameTheirField) {
  const json base = {{"model", "m"}, {"prompt", "x"}};
  auto with = [&base](const char* key, json value) {
    json b = base;
    b[key] = std::move(value);
    return b;
  };
  EXPECT_EQ(rejected_param(json{{"prompt", "x"}}), "model");
  EXPECT_EQ(rejected_param(json{{"model", "m"}}), "prompt");
  EXPECT_EQ(rejected_param(with("temperature", "hot")), "temperature");
  EXPECT_EQ(rejected_param(with("temperature", 3)), "temperature");
  EXPECT_EQ(rejected_param(with("top_p", 0)), "top_p");
  EXPECT_EQ(rejected_param(with("max_tokens", 0)), "max_tokens");
  EXPECT_EQ(rejected_param(with("max_tokens", 2.5)), "max_tokens");
  EXPECT_EQ(rejected_param(with("n", 0)), "n");
  EXPECT_EQ(rejected_param(with("stream", "yes")), "stream");
  EXPECT_EQ(rejected_param(with("stop", json::array({1}))), "stop");
  EXPECT_EQ(rejected_param(with("stop", "")), "stop");
  EXPECT_EQ(rejected_param(with("logprobs", 6)), "logprobs");
  EXPECT_EQ(rejected_param(with("prompt", json::array())), "prompt");
  EXPECT_EQ(rejected_param(with("prompt", {1, -2})), "prompt");
  EXPECT_EQ(rejected_param(with("prompt", {{1}, true})), "prompt");
  EXPECT_EQ(rejected_param(with("suffix", "s")), "suffix");
  EXPECT_EQ(rejected_param(with("logit_bias", {{"5", 1}})), "logit_bias");
  EXPECT_EQ(rejected_param(with("stream_options", {{"include_usage", true}})), "stream_options");
  EXPECT_EQ(rejected_param(json::array({1, 2})), "<none>");
  EXPECT_EQ(rejected_param({{"model", "m"}, {"messages", json::array()}}, Endpoint::ChatCompletions), "messages");
  EXPECT_EQ(rejected_param({{"model", "m"}, {"messages", {{{"content", "x"}}}}}, Endpoint::ChatCompletions),
            "messages");
  EXPECT_EQ(rejected_param({{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "x"}}}},
                            {"top_logprobs", 2}},
                           Endpoint::ChatCompletions),
            "top_logprobs");
}

TEST(OpenAiRequest, ErrorJsonHasOpenAiShape) {
  const json j = ApiError(401, "no", "", "invalid_api_key").to_json();
  EXPECT_EQ(j["error"]["message"], "no");
  EXPECT_EQ(j["error"]["type"], "authentication_error");
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_EQ(j["error"]["code"], "invalid_api_key");
}

TEST(ConstantTimeEqual, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("secret", ""));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

}  // namespace
}  // namespace bamba::server

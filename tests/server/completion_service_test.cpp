// CompletionService over the engine loop with a mock model and the small test tokenizer:
// response shapes, usage, streaming events, echo with prompt logprobs, clients that leave,
// shutdown as an error, and the chat-template 400, without HTTP.
#include "server/completion_service.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../runtime/mock_step_model.h"
#include "server/api_error.h"

namespace bamba::server {
namespace {

using nlohmann::json;

// A client that never leaves.
bool connected() { return true; }

class CompletionServiceTest : public ::testing::Test {
 protected:
  CompletionServiceTest()
      : tokenizer_(Tokenizer::load(std::filesystem::path(BAMBA_TEST_DATA_DIR) / "server" / "tokenizer.json")),
        chat_template_(tokenizer_.chat_template()),
        model_(4, 512),
        engine_(model_, options()),
        stepped_model_(4, 512),
        stepped_engine_(stepped_model_, options()) {
    engine_.start();
  }
  ~CompletionServiceTest() override { engine_.shutdown(std::chrono::milliseconds(0)); }

  static EngineOptions options() {
    EngineOptions o;
    o.scheduler = {.max_seqs = 4, .max_batch_tokens = 64, .prefill_chunk = 16, .kv_block_len = 16,
                   .kv_blocks = 256, .max_waiting = 8};
    o.max_context = 128;
    return o;
  }

  CompletionService service(bool with_template = true) {
    return CompletionService(engine_, tokenizer_, with_template ? &chat_template_ : nullptr, metrics_,
                             {.model_name = "tiny", .eos_ids = {2}, .default_sampling = {}});
  }
  // Over stepped_engine_, which has no thread: nothing runs unless the test steps it.
  CompletionService stepped_service() {
    return CompletionService(stepped_engine_, tokenizer_, nullptr, metrics_,
                             {.model_name = "tiny", .eos_ids = {2}, .default_sampling = {}});
  }

  Tokenizer tokenizer_;
  ChatTemplate chat_template_;
  testing::MockStepModel model_;
  EngineLoop engine_;
  testing::MockStepModel stepped_model_;
  EngineLoop stepped_engine_;
  Metrics metrics_;
};

TEST_F(CompletionServiceTest, CompletionResponseFollowsTheModel) {
  CompletionService s = service();
  const json r = s.start({{"model", "tiny"}, {"prompt", {1, 10, 20}}, {"max_tokens", 6}, {"temperature", 0}},
                         Endpoint::Completions)
                     ->run_to_end(connected)
                     .value();
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["usage"]["prompt_tokens"], 3);
  // The mock's greedy continuation, cut at its first EOS (id 2).
  std::vector<int32_t> expected = model_.greedy({1, 10, 20}, 6);
  const auto eos = std::find(expected.begin(), expected.end(), 2);
  const bool stopped = eos != expected.end();
  expected.erase(eos, expected.end());
  EXPECT_EQ(r["usage"]["completion_tokens"], int64_t(expected.size()));
  EXPECT_EQ(r["choices"][0]["text"], tokenizer_.decode(expected, /*skip_special_tokens=*/true));
  EXPECT_EQ(r["choices"][0]["finish_reason"], stopped ? "stop" : "length");
}

TEST_F(CompletionServiceTest, StreamEndsWithUsageAndDone) {
  CompletionService s = service();
  auto job = s.start({{"model", "tiny"}, {"prompt", "the cat"}, {"max_tokens", 5}, {"temperature", 0}, {"n", 2},
                      {"stream", true}, {"stream_options", {{"include_usage", true}}}},
                     Endpoint::Completions);
  std::vector<std::string> events;
  job->stream([&events](const std::string& e) {
    events.push_back(e);
    return true;
  });
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "data: [DONE]\n\n");
  const json usage_chunk = json::parse(events[events.size() - 2].substr(6));
  EXPECT_TRUE(usage_chunk["choices"].empty());
  // The prompt counts once however many choices it has (as OpenAI counts it).
  EXPECT_EQ(usage_chunk["usage"]["prompt_tokens"], int64_t(tokenizer_.encode("the cat").size()));
  int finished = 0;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    const json c = json::parse(events[i].substr(6));
    ASSERT_EQ(c["choices"].size(), 1u);
    finished += !c["choices"][0]["finish_reason"].is_null();
  }
  EXPECT_EQ(finished, 2);
}

TEST_F(CompletionServiceTest, ClientGoneCancelsTheChoices) {
  CompletionService s = service();
  auto job = s.start({{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 100}, {"stream", true}},
                     Endpoint::Completions);
  int writes = 0;
  job->stream([&writes](const std::string&) { return ++writes < 3; });
  job.reset();
  for (int i = 0; i < 200 && engine_.snapshot().running > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(engine_.snapshot().running, 0);
}

TEST_F(CompletionServiceTest, EchoWithLogprobsLeadsWithThePromptTokens) {
  CompletionService s = service();
  const std::vector<int32_t> prompt = {1, 10, 20, 30, 40};
  const json r = s.start({{"model", "tiny"}, {"prompt", prompt}, {"max_tokens", 3}, {"temperature", 0},
                          {"echo", true}, {"logprobs", 2}, {"ignore_eos", true}},
                         Endpoint::Completions)
                     ->run_to_end(connected)
                     .value();
  const json& choice = r["choices"][0];
  const std::string echo = tokenizer_.decode(prompt);
  EXPECT_EQ(choice["text"].get<std::string>().substr(0, echo.size()), echo);
  const json& lp = choice["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), prompt.size() + 3);
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  EXPECT_EQ(lp["text_offset"][0], 0);
  for (size_t i = 1; i < lp["tokens"].size(); ++i) {
    EXPECT_GE(lp["text_offset"][i], lp["text_offset"][i - 1]);
    // Keyed by text: alternatives that decode alike share an entry.
    EXPECT_TRUE(lp["top_logprobs"][i].size() == 1u || lp["top_logprobs"][i].size() == 2u) << i;
  }
  EXPECT_GE(lp["text_offset"][prompt.size()], echo.size());  // generated tokens follow the echo
  // Prompt token i is scored by the logits after tokens [0, i).
  for (size_t i = 1; i < prompt.size(); ++i) {
    const std::vector<float> logits = model_.logits_after({prompt.begin(), prompt.begin() + ptrdiff_t(i)});
    double sum = 0;
    const float max = *std::max_element(logits.begin(), logits.end());
    for (float x : logits) sum += std::exp(double(x - max));
    EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), logits[size_t(prompt[i])] - max - std::log(sum), 1e-4);
  }
}

TEST_F(CompletionServiceTest, StreamedEchoWithLogprobsMatchesTheWholeResponse) {
  CompletionService s = service();
  const json body = {{"model", "tiny"}, {"prompt", "the cat sat"}, {"max_tokens", 4}, {"temperature", 0},
                     {"echo", true}, {"logprobs", 1}};
  const json whole = s.start(body, Endpoint::Completions)->run_to_end(connected).value()["choices"][0];
  json streamed_body = body;
  streamed_body["stream"] = true;
  std::string text;
  json tokens = json::array();
  s.start(streamed_body, Endpoint::Completions)->stream([&](const std::string& e) {
    if (e == "data: [DONE]\n\n") return true;
    const json c = json::parse(e.substr(6));
    text += c["choices"][0]["text"].get<std::string>();
    if (!c["choices"][0]["logprobs"].is_null())
      for (const json& t : c["choices"][0]["logprobs"]["tokens"]) tokens.push_back(t);
    return true;
  });
  EXPECT_EQ(text, whole["text"]);
  EXPECT_EQ(tokens, whole["logprobs"]["tokens"]);
  EXPECT_EQ(text.rfind("the cat sat", 0), 0u);
}

TEST_F(CompletionServiceTest, NonStreamingClientGoneCancelsTheChoices) {
  CompletionService s = stepped_service();
  auto job = s.start({{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 100}, {"n", 2}, {"ignore_eos", true}},
                     Endpoint::Completions);
  ASSERT_TRUE(stepped_engine_.step());
  EXPECT_EQ(stepped_engine_.snapshot().running, 2);
  int asked = 0;
  EXPECT_FALSE(job->run_to_end([&asked] { return ++asked < 3; }).has_value());
  (void)stepped_engine_.step();
  EXPECT_EQ(stepped_engine_.snapshot().running, 0);
  EXPECT_EQ(stepped_model_.slots_in_use(), 0);
}

TEST_F(CompletionServiceTest, ShutdownIsAnErrorNotAFinishReason) {
  CompletionService s = stepped_service();
  const json body = {{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 100}, {"ignore_eos", true}};
  auto whole = s.start(body, Endpoint::Completions);
  json streamed_body = body;
  streamed_body["stream"] = true;
  auto streamed = s.start(streamed_body, Endpoint::Completions);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(stepped_engine_.step());  // both are generating
  stepped_engine_.shutdown(std::chrono::milliseconds(0));
  try {
    (void)whole->run_to_end(connected);
    FAIL() << "expected a 503";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 503);
    EXPECT_EQ(e.code, "server_shutdown");
  }
  std::vector<std::string> events;
  streamed->stream([&events](const std::string& e) {
    events.push_back(e);
    return true;
  });
  ASSERT_FALSE(events.empty());
  const json last = json::parse(events.back().substr(6));  // an error event, and no [DONE]
  EXPECT_EQ(last["error"]["code"], "server_shutdown");
  for (const std::string& e : events) EXPECT_EQ(e.find("finish_reason\":\""), std::string::npos) << e;
}

TEST_F(CompletionServiceTest, ChatNeedsATemplate) {
  const json body = {{"model", "tiny"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 3}};
  CompletionService with = service(true);
  const json r = with.start(body, Endpoint::ChatCompletions)->run_to_end(connected).value();
  EXPECT_EQ(r["object"], "chat.completion");
  // The rendered prompt: BOS, the role marker and the text, then the assistant marker.
  EXPECT_EQ(r["usage"]["prompt_tokens"],
            int64_t(tokenizer_.encode("<|bos|><|user|>\nhi\n<|assistant|>\n", false).size()));
  CompletionService without = service(false);
  try {
    (void)without.start(body, Endpoint::ChatCompletions);
    FAIL() << "expected a 400";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_NE(std::string(e.what()).find("chat template"), std::string::npos);
  }
}

TEST_F(CompletionServiceTest, RefusalsMapToStatuses) {
  CompletionService s = service();
  auto status_of = [&s](const json& body) {
    try {
      (void)s.start(body, Endpoint::Completions);
    } catch (const ApiError& e) {
      return e.status;
    }
    return 200;
  };
  EXPECT_EQ(status_of({{"model", "other"}, {"prompt", "x"}}), 404);
  EXPECT_EQ(status_of({{"model", "tiny"}, {"prompt", {1, 9999}}}), 400);
  EXPECT_EQ(status_of({{"model", "tiny"}, {"prompt", std::vector<int>(200, 5)}}), 400);  // context 128
  EXPECT_EQ(status_of({{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 500}}), 400);
}

}  // namespace
}  // namespace bamba::server

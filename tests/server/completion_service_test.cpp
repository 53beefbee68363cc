// CompletionService over the engine loop with a mock model and the small test tokenizer:
// response shapes, usage, streaming events, stop strings and the chat-template 400, without
// HTTP.
#include "server/completion_service.h"

#include <gtest/gtest.h>

#include "../runtime/mock_step_model.h"
#include "server/api_error.h"

namespace bamba::server {
namespace {

using nlohmann::json;

class CompletionServiceTest : public ::testing::Test {
 protected:
  CompletionServiceTest()
      : tokenizer_(Tokenizer::load(std::filesystem::path(BAMBA_TEST_DATA_DIR) / "server" / "tokenizer.json")),
        chat_template_(tokenizer_.chat_template()),
        model_(4, 512),
        engine_(model_, options()) {
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

  Tokenizer tokenizer_;
  ChatTemplate chat_template_;
  testing::MockStepModel model_;
  EngineLoop engine_;
  Metrics metrics_;
};

TEST_F(CompletionServiceTest, CompletionResponseFollowsTheModel) {
  CompletionService s = service();
  const json r = s.start({{"model", "tiny"}, {"prompt", {1, 10, 20}}, {"max_tokens", 6}, {"temperature", 0}},
                         Endpoint::Completions)
                     ->run_to_end();
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

TEST_F(CompletionServiceTest, ChatNeedsATemplate) {
  const json body = {{"model", "tiny"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 3}};
  CompletionService with = service(true);
  const json r = with.start(body, Endpoint::ChatCompletions)->run_to_end();
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

// The engine loop over a mock model: tokens reach the right requests, batching does not
// change them, stop tokens and limits finish requests, and cancelled or finished requests
// give their slots and blocks back.
#include "runtime/engine_loop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <thread>

#include "mock_step_model.h"

namespace bamba {
namespace {

using testing::MockStepModel;
constexpr int64_t kVocab = 64;

EngineOptions engine_options(int max_seqs, int64_t budget, int64_t chunk) {
  EngineOptions options;
  options.scheduler = {.max_seqs = max_seqs, .max_batch_tokens = budget, .prefill_chunk = chunk,
                       .kv_block_len = 16, .kv_blocks = 4096, .max_waiting = 64};
  options.max_context = 1024;
  return options;
}

RequestParams greedy_params(std::vector<int32_t> prompt, int64_t max_new) {
  RequestParams params;
  params.prompt = std::move(prompt);
  params.max_new_tokens = max_new;
  params.sampling.temperature = 0;
  return params;
}

std::vector<int32_t> prompt_of_length(int64_t n, int32_t salt) {
  std::vector<int32_t> prompt;
  for (int64_t i = 0; i < n; ++i) prompt.push_back(int32_t((i * 7 + salt * 13) % kVocab));
  return prompt;
}

// Collects a finished stream's tokens (the stream must already be finished or finish soon).
std::vector<int32_t> drain(RequestStream& stream) {
  std::vector<TokenEvent> events;
  for (int i = 0; i < 1000 && !stream.wait(events, std::chrono::milliseconds(10)); ++i) {
  }
  std::vector<int32_t> tokens;
  for (const TokenEvent& e : events) tokens.push_back(e.sampled.token);
  return tokens;
}

TEST(EngineLoop, GreedyTokensFollowTheModel) {
  MockStepModel model(2, kVocab);
  EngineLoop engine(model, engine_options(2, 64, 16));
  const auto prompt = prompt_of_length(37, 1);
  Submission sub = engine.submit(greedy_params(prompt, 9));
  ASSERT_EQ(sub.error, SubmitError::None) << sub.message;
  while (engine.step()) {
  }
  EXPECT_EQ(drain(*sub.stream), model.greedy(prompt, 9));
  EXPECT_EQ(sub.stream->reason(), EndReason::Length);
  EXPECT_EQ(model.slots_in_use(), 0);
}

TEST(EngineLoop, ThirtyTwoMixedRequestsMatchTheirSoloRuns) {
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 32; ++i) prompts.push_back(prompt_of_length(1 + (i * 37) % 150, i));

  std::vector<std::vector<int32_t>> solo;
  for (const auto& prompt : prompts) {
    MockStepModel model(1, kVocab);
    EngineLoop engine(model, engine_options(1, 64, 16));
    Submission sub = engine.submit(greedy_params(prompt, 12));
    ASSERT_EQ(sub.error, SubmitError::None);
    while (engine.step()) {
    }
    solo.push_back(drain(*sub.stream));
  }

  MockStepModel model(32, kVocab);
  EngineLoop engine(model, engine_options(32, 64, 16));
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& prompt : prompts) streams.push_back(engine.submit(greedy_params(prompt, 12)).stream);
  while (engine.step()) {
  }
  EXPECT_LE(model.max_batch_tokens, 64);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(drain(*streams[i]), solo[i]) << "request " << i;
    EXPECT_EQ(solo[i], model.greedy(prompts[i], 12));
  }
  EXPECT_EQ(model.slots_in_use(), 0);
}

TEST(EngineLoop, StopTokenFinishesWithoutBeingEmitted) {
  MockStepModel model(1, kVocab);
  EngineLoop engine(model, engine_options(1, 64, 16));
  const auto prompt = prompt_of_length(5, 3);
  const auto expected = model.greedy(prompt, 6);
  RequestParams params = greedy_params(prompt, 6);
  params.stop_tokens = {expected[3]};
  Submission sub = engine.submit(params);
  while (engine.step()) {
  }
  const auto got = drain(*sub.stream);
  const auto first = std::find(expected.begin(), expected.end(), expected[3]);
  EXPECT_EQ(got, std::vector<int32_t>(expected.begin(), first));
  EXPECT_EQ(sub.stream->reason(), EndReason::Stop);
}

TEST(EngineLoop, LogprobsAreReportedWhenAsked) {
  MockStepModel model(1, kVocab);
  EngineLoop engine(model, engine_options(1, 64, 16));
  RequestParams params = greedy_params(prompt_of_length(4, 0), 3);
  params.logprobs = true;
  params.top_logprobs = 2;
  Submission sub = engine.submit(params);
  while (engine.step()) {
  }
  std::vector<TokenEvent> events;
  ASSERT_TRUE(sub.stream->wait(events, std::chrono::milliseconds(0)));
  ASSERT_EQ(events.size(), 3u);
  for (const TokenEvent& event : events) {
    const SampledToken& e = event.sampled;
    ASSERT_EQ(e.top_logprobs.size(), 2u);
    EXPECT_EQ(e.top_logprobs[0].token, e.token);  // greedy picks the most likely
    EXPECT_LE(e.logprob, 0.0f);
  }
}

// Prompt log-probabilities (echo) come from every prompt position's logits, across chunks,
// reach the stream before the first token, and leave the sampled tokens unchanged.
TEST(EngineLoop, PromptLogprobsScoreEveryPromptTokenAfterTheFirst) {
  MockStepModel model(2, kVocab);
  EngineLoop engine(model, engine_options(2, 64, 16));
  const auto prompt = prompt_of_length(37, 5);  // three chunks of 16
  RequestParams params = greedy_params(prompt, 4);
  params.logprobs = true;
  params.top_logprobs = 3;
  params.prompt_logprobs = true;
  Submission sub = engine.submit(params);
  Submission beside = engine.submit(greedy_params(prompt_of_length(20, 6), 4));
  std::optional<std::vector<SampledToken>> scored;
  std::vector<TokenEvent> events;
  while (engine.step()) {
    sub.stream->wait(events, std::chrono::milliseconds(0));
    if (!scored) scored = sub.stream->take_prompt_logprobs();
    if (!events.empty()) EXPECT_TRUE(scored.has_value()) << "a token came before the prompt's logprobs";
  }
  sub.stream->wait(events, std::chrono::milliseconds(0));
  std::vector<int32_t> tokens;
  for (const TokenEvent& e : events) tokens.push_back(e.sampled.token);
  ASSERT_TRUE(scored.has_value());
  ASSERT_EQ(scored->size(), prompt.size() - 1);
  for (size_t i = 1; i < prompt.size(); ++i) {
    const std::vector<float> logits = model.logits_after({prompt.begin(), prompt.begin() + ptrdiff_t(i)});
    const SampledToken& got = (*scored)[i - 1];
    EXPECT_EQ(got.token, prompt[i]);
    float max = logits[0];
    for (float x : logits) max = std::max(max, x);
    double sum = 0;
    for (float x : logits) sum += std::exp(double(x - max));
    EXPECT_NEAR(got.logprob, logits[size_t(prompt[i])] - max - std::log(sum), 1e-5) << "prompt token " << i;
    ASSERT_EQ(got.top_logprobs.size(), 3u);
    EXPECT_NEAR(got.top_logprobs[0].logprob, -std::log(sum), 1e-5);
  }
  EXPECT_EQ(tokens, model.greedy(prompt, 4));
  EXPECT_EQ(drain(*beside.stream), model.greedy(prompt_of_length(20, 6), 4));
}

TEST(EngineLoop, CancelledRequestFreesItsSlotAndBlocks) {
  MockStepModel model(2, kVocab);
  EngineLoop engine(model, engine_options(2, 64, 16));
  Submission keep = engine.submit(greedy_params(prompt_of_length(40, 1), 50));
  Submission gone = engine.submit(greedy_params(prompt_of_length(40, 2), 50));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(engine.step());
  EXPECT_EQ(model.slots_in_use(), 2);
  gone.stream->cancel();
  ASSERT_TRUE(engine.step());
  EXPECT_EQ(gone.stream->reason(), EndReason::Cancelled);
  EXPECT_EQ(model.slots_in_use(), 1);
  EXPECT_EQ(engine.snapshot().running, 1);
  while (engine.step()) {
  }
  EXPECT_EQ(keep.stream->reason(), EndReason::Length);
  EXPECT_EQ(model.kv_blocks_in_use(), 0);
  EXPECT_EQ(engine.snapshot().kv_blocks_reserved, 0);
}

TEST(EngineLoop, RefusesBadRequestsWithAReason) {
  MockStepModel model(1, kVocab);
  EngineOptions options = engine_options(1, 64, 16);
  options.scheduler.max_waiting = 1;
  options.scheduler.kv_blocks = 4;  // 64 positions
  EngineLoop engine(model, options);
  EXPECT_EQ(engine.submit(greedy_params({}, 4)).error, SubmitError::InvalidRequest);
  EXPECT_EQ(engine.submit(greedy_params({1, int32_t(kVocab)}, 4)).error, SubmitError::InvalidRequest);
  EXPECT_EQ(engine.submit(greedy_params({1, -1}, 4)).error, SubmitError::InvalidRequest);
  EXPECT_EQ(engine.submit(greedy_params({1}, 0)).error, SubmitError::InvalidRequest);
  EXPECT_EQ(engine.submit(greedy_params({1}, 2000)).error, SubmitError::TooLarge);  // context
  EXPECT_EQ(engine.submit(greedy_params({1}, 100)).error, SubmitError::TooLarge);   // pool
  RequestParams bad_sampling = greedy_params({1}, 4);
  bad_sampling.sampling.top_p = 2;
  EXPECT_EQ(engine.submit(bad_sampling).error, SubmitError::InvalidRequest);
  EXPECT_EQ(engine.submit(greedy_params({1}, 4)).error, SubmitError::None);
  EXPECT_EQ(engine.submit(greedy_params({1}, 4)).error, SubmitError::QueueFull);
}

TEST(EngineLoop, ThreadServesConcurrentClientsAndShutsDown) {
  MockStepModel model(4, kVocab);
  EngineLoop engine(model, engine_options(4, 32, 16));
  engine.start();
  std::vector<std::vector<int32_t>> results(8);
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      Submission sub = engine.submit(greedy_params(prompt_of_length(3 + i * 11, i), 10));
      if (sub.stream) results[size_t(i)] = drain(*sub.stream);
    });
  }
  for (std::thread& c : clients) c.join();
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(results[size_t(i)], model.greedy(prompt_of_length(3 + i * 11, i), 10));
  engine.shutdown(std::chrono::milliseconds(1000));
  EXPECT_EQ(engine.submit(greedy_params({1}, 4)).error, SubmitError::ShuttingDown);
}

TEST(EngineLoop, ShutdownEndsWhatOutlivesTheGracePeriod) {
  MockStepModel model(1, kVocab);
  EngineOptions options = engine_options(1, 64, 16);
  EngineLoop engine(model, options);
  Submission running = engine.submit(greedy_params({1, 2, 3}, 1000));
  Submission waiting = engine.submit(greedy_params({4, 5}, 10));
  ASSERT_TRUE(engine.step());
  engine.shutdown(std::chrono::milliseconds(0));
  EXPECT_EQ(running.stream->reason(), EndReason::Shutdown);
  EXPECT_EQ(waiting.stream->reason(), EndReason::Shutdown);
  EXPECT_EQ(model.slots_in_use(), 0);
}

}  // namespace
}  // namespace bamba

// Generator on tiny-a: greedy continuations equal the goldens (all prompts in one run, with
// whole and chunked prefill), EOS and length limits, stop strings and streaming with a real
// tokenizer, seeded sampling.
#include "runtime/generator.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "golden_test_data.h"
#include "model/model.h"

namespace bamba {
namespace {

using testing::golden_tensor;

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = Model::load(testing::tiny_model_dir("tiny-a"), {kernels::MathMode::F32}).release();
    golden_ = io::SafetensorsFile::open(testing::tiny_model_dir("tiny-a") / "golden.safetensors").release();
    tokenizer_ = new Tokenizer(Tokenizer::load(testing::llama3_tokenizer_json()));
    pool_ = new ThreadPool(2);
  }
  static void TearDownTestSuite() {
    delete model_;
    delete golden_;
    delete tokenizer_;
    delete pool_;
  }

  static GenerationRequest greedy_request(int n, int64_t max_new_tokens = 16) {
    GenerationRequest r;
    r.prompt = golden_tensor<int32_t>(*golden_, "ids_" + std::to_string(n));
    r.sampling.temperature = 0.0f;
    r.max_new_tokens = max_new_tokens;
    return r;
  }

  // Expects the golden greedy tokens of prompt length n while the margins allow.
  static void expect_golden_greedy(int n, const std::vector<int32_t>& tokens) {
    const auto greedy = golden_tensor<int32_t>(*golden_, "greedy_" + std::to_string(n));
    const auto margin = golden_tensor<float>(*golden_, "greedy_margin_" + std::to_string(n));
    for (size_t k = 0; k < tokens.size() && margin[k] >= 2 * testing::kFp32LogitsAtol; ++k) {
      EXPECT_EQ(tokens[k], greedy[k]) << "prompt length " << n << ", step " << k;
    }
  }

  static Model* model_;
  static io::SafetensorsFile* golden_;
  static Tokenizer* tokenizer_;
  static ThreadPool* pool_;
};

Model* GeneratorTest::model_ = nullptr;
io::SafetensorsFile* GeneratorTest::golden_ = nullptr;
Tokenizer* GeneratorTest::tokenizer_ = nullptr;
ThreadPool* GeneratorTest::pool_ = nullptr;

TEST_F(GeneratorTest, GreedyMatchesGoldenForAllPromptsInOneRun) {
  for (int64_t max_batch_tokens : {int64_t(2048), int64_t(7)}) {  // whole prompts; prompts cut in chunks
    std::vector<GenerationRequest> requests;
    for (int n : testing::kGoldenLengths) requests.push_back(greedy_request(n));
    Generator generator(*model_, nullptr, {}, *pool_, {.kv_dtype = DType::F32, .max_batch_tokens = max_batch_tokens});
    GenerationTimings timings;
    const std::vector<GenerationResult> results = generator.generate(requests, {}, &timings);
    ASSERT_EQ(results.size(), requests.size());
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_EQ(results[i].tokens.size(), 16u);
      EXPECT_EQ(results[i].finish_reason, FinishReason::Length);
      EXPECT_EQ(results[i].text, "");
      expect_golden_greedy(testing::kGoldenLengths[i], results[i].tokens);
    }
    EXPECT_EQ(timings.prefill_tokens, 1 + 5 + 17 + 64 + 200);
    EXPECT_EQ(timings.decode_tokens, 5 * 15);  // the 16th token of each is never fed back
  }
}

TEST_F(GeneratorTest, StopsAtEosAndKeepsIt) {
  const auto greedy = golden_tensor<int32_t>(*golden_, "greedy_17");
  const int32_t eos = greedy[3];
  const size_t first = size_t(std::find(greedy.begin(), greedy.end(), eos) - greedy.begin());
  Generator generator(*model_, nullptr, {eos}, *pool_, {.kv_dtype = DType::F32});
  const GenerationRequest request = greedy_request(17);
  const GenerationResult r = generator.generate(std::span(&request, 1)).front();
  EXPECT_EQ(r.finish_reason, FinishReason::Stop);
  ASSERT_EQ(r.tokens.size(), first + 1);
  EXPECT_EQ(r.tokens.back(), eos);

  GenerationRequest ignoring = request;
  ignoring.ignore_eos = true;
  const GenerationResult all = generator.generate(std::span(&ignoring, 1)).front();
  EXPECT_EQ(all.tokens.size(), 16u);
  EXPECT_EQ(all.finish_reason, FinishReason::Length);
}

TEST_F(GeneratorTest, MaxTokensOfOne) {
  Generator generator(*model_, nullptr, {}, *pool_, {.kv_dtype = DType::F32});
  const GenerationRequest request = greedy_request(5, 1);
  const GenerationResult r = generator.generate(std::span(&request, 1)).front();
  EXPECT_EQ(r.tokens.size(), 1u);
  EXPECT_EQ(r.finish_reason, FinishReason::Length);
}

TEST_F(GeneratorTest, StreamedTextAndStopStrings) {
  // tiny-a's ids are all below 512, where the Llama-3 vocabulary has short byte-level pieces:
  // decodable text, enough to exercise streaming and stop strings end to end.
  Generator generator(*model_, tokenizer_, {}, *pool_, {.kv_dtype = DType::F32});
  const GenerationRequest request = greedy_request(64);
  std::string streamed;
  const GenerationResult full = generator.generate(std::span(&request, 1), [&](size_t i, std::string_view d) {
    EXPECT_EQ(i, 0u);
    streamed += d;
  }).front();
  EXPECT_EQ(streamed, full.text);
  EXPECT_EQ(full.text, tokenizer_->decode(full.tokens, true));
  ASSERT_GE(full.text.size(), 8u);

  // A stop string taken from the middle of that text: the output ends right before its
  // first occurrence, and the stream never showed text past it.
  GenerationRequest stopping = request;
  stopping.stop = {full.text.substr(full.text.size() / 2, 3)};
  const size_t cut = full.text.find(stopping.stop[0]);
  streamed.clear();
  const GenerationResult r = generator.generate(std::span(&stopping, 1), [&](size_t, std::string_view d) {
    streamed += d;
  }).front();
  EXPECT_EQ(r.finish_reason, FinishReason::Stop);
  EXPECT_EQ(r.text, full.text.substr(0, cut));
  EXPECT_EQ(streamed, r.text);
  EXPECT_LE(r.tokens.size(), full.tokens.size());
}

TEST_F(GeneratorTest, SeededSamplingRepeatsAndSeedsDiffer) {
  Generator generator(*model_, nullptr, {}, *pool_, {.kv_dtype = DType::F32});
  auto run = [&](uint64_t seed) {
    GenerationRequest r = greedy_request(17, 24);
    r.sampling.temperature = 1.5f;
    r.sampling.seed = seed;
    return generator.generate(std::span(&r, 1)).front().tokens;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST_F(GeneratorTest, LogprobsWhenAsked) {
  Generator generator(*model_, nullptr, {}, *pool_, {.kv_dtype = DType::F32});
  GenerationRequest request = greedy_request(5, 4);
  request.n_top_logprobs = 3;
  const GenerationResult r = generator.generate(std::span(&request, 1)).front();
  ASSERT_EQ(r.logprobs.size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(r.logprobs[k].token, r.tokens[k]);
    ASSERT_EQ(r.logprobs[k].top_logprobs.size(), 3u);
    EXPECT_EQ(r.logprobs[k].top_logprobs[0].token, r.tokens[k]);  // greedy: the most likely
    EXPECT_LE(r.logprobs[k].logprob, 0.0f);
  }
}

TEST_F(GeneratorTest, RejectsBadRequests) {
  Generator generator(*model_, nullptr, {}, *pool_);
  GenerationRequest empty;
  EXPECT_THROW((void)generator.generate(std::span(&empty, 1)), Error);
  GenerationRequest outside = greedy_request(5);
  outside.prompt[2] = 512;
  EXPECT_THROW((void)generator.generate(std::span(&outside, 1)), Error);
  GenerationRequest stop_without_tokenizer = greedy_request(5);
  stop_without_tokenizer.stop = {"x"};
  EXPECT_THROW((void)generator.generate(std::span(&stop_without_tokenizer, 1)), Error);
  GenerationRequest bad_sampling = greedy_request(5);
  bad_sampling.sampling.top_p = 2.0f;
  EXPECT_THROW((void)generator.generate(std::span(&bad_sampling, 1)), Error);
}

}  // namespace
}  // namespace bamba

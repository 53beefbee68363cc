// The engine loop over the real tiny-a model: greedy tokens equal the float64 goldens, and
// batch invariance — 32 requests of different lengths batched together produce exactly
// the tokens (and bit-identical log-probabilities) each produces alone, in both math modes:
// with float weights through the runner's padding, with int8 weights without it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <bit>
#include <filesystem>

#include "golden_test_data.h"
#include "model/model.h"
#include "model/quantize.h"
#include "runtime/engine_loop.h"
#include "runtime/model_runner.h"

namespace bamba {
namespace {

// A request's output: its tokens, and each token's log-probability as raw bits (batch
// invariance means identical logits, not merely the same argmax).
struct Output {
  std::vector<int32_t> tokens;
  std::vector<uint32_t> logprob_bits;
  bool operator==(const Output&) const = default;
};

Output drain(RequestStream& stream) {
  std::vector<TokenEvent> events;
  for (int i = 0; i < 10000 && !stream.wait(events, std::chrono::milliseconds(10)); ++i) {
  }
  Output out;
  for (const TokenEvent& e : events) {
    out.tokens.push_back(e.sampled.token);
    out.logprob_bits.push_back(std::bit_cast<uint32_t>(e.sampled.logprob));
  }
  return out;
}

RequestParams greedy(std::vector<int32_t> prompt, int64_t max_new) {
  RequestParams params;
  params.prompt = std::move(prompt);
  params.max_new_tokens = max_new;
  params.sampling.temperature = 0;
  params.logprobs = true;
  return params;
}

class EngineOnTinyModel : public ::testing::TestWithParam<kernels::MathMode> {
 protected:
  void SetUp() override { model_ = Model::load(testing::tiny_model_dir("tiny-a"), {GetParam()}); }

  // Runs `prompts` through one engine with `max_seqs` slots; returns each one's tokens.
  std::vector<Output> run(const std::vector<std::vector<int32_t>>& prompts, int max_seqs,
                                        int64_t max_new) {
    const DType kv = GetParam() == kernels::MathMode::F32 ? DType::F32 : DType::BF16;
    const MemoryPlan plan = plan_memory(model_->config(), int64_t(64) << 20, max_seqs, 512, 16, kv, DType::F32);
    ModelRunner runner(*model_, plan, kv, DType::F32, pool_);
    EngineOptions options;
    options.max_context = 512;
    options.scheduler = {.max_seqs = max_seqs, .max_batch_tokens = 96, .prefill_chunk = 32,
                         .kv_block_len = plan.block_len, .kv_blocks = plan.kv_blocks, .max_waiting = 64};
    EngineLoop engine(runner, options);
    std::vector<std::shared_ptr<RequestStream>> streams;
    for (const auto& prompt : prompts) {
      Submission sub = engine.submit(greedy(prompt, max_new));
      EXPECT_EQ(sub.error, SubmitError::None) << sub.message;
      streams.push_back(sub.stream);
    }
    while (engine.step()) {
    }
    EXPECT_EQ(runner.kv_blocks_in_use(), 0);
    std::vector<Output> out;
    for (auto& stream : streams) out.push_back(drain(*stream));
    return out;
  }

  // 32 requests of different lengths batched together give each one's solo tokens and
  // log-probabilities, bit for bit.
  void expect_batched_equal_solo() {
    std::vector<std::vector<int32_t>> prompts;
    uint32_t x = 1;
    for (int i = 0; i < 32; ++i) {
      std::vector<int32_t> prompt;
      const int len = 1 + (i * 53) % 150;
      for (int t = 0; t < len; ++t) {
        x = x * 1664525u + 1013904223u;
        prompt.push_back(int32_t(x >> 23));  // [0, 512)
      }
      prompts.push_back(prompt);
    }
    const auto together = run(prompts, 32, 8);
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto alone = run({prompts[i]}, 1, 8).front();
      EXPECT_EQ(together[i].tokens, alone.tokens) << "request " << i;
      EXPECT_TRUE(together[i] == alone) << "request " << i << " (" << prompts[i].size() << " prompt tokens)";
    }
  }

  ThreadPool pool_{2};
  std::unique_ptr<Model> model_;
};

TEST_P(EngineOnTinyModel, GreedyTokensMatchTheGoldens) {
  const auto golden = io::SafetensorsFile::open(testing::tiny_model_dir("tiny-a") / "golden.safetensors");
  for (int n : {5, 17, 64}) {
    const auto ids = testing::golden_tensor<int32_t>(*golden, "ids_" + std::to_string(n));
    const auto expected = testing::golden_tensor<int32_t>(*golden, "greedy_" + std::to_string(n));
    const auto margin = testing::golden_tensor<float>(*golden, "greedy_margin_" + std::to_string(n));
    const auto got = run({ids}, 1, 16).front().tokens;
    ASSERT_EQ(got.size(), 16u);
    // Compare while the golden's choice was clear (bf16 math may flip near-ties).
    for (size_t k = 0; k < got.size() && margin[k] >= 0.05f; ++k) EXPECT_EQ(got[k], expected[k]) << n << " @" << k;
  }
}

TEST_P(EngineOnTinyModel, ThirtyTwoRequestsBatchedEqualTheirSoloRuns) {
  EXPECT_FALSE(model_->rows_independent());  // float weights: the runner pads
  expect_batched_equal_solo();
}

INSTANTIATE_TEST_SUITE_P(MathModes, EngineOnTinyModel,
                         ::testing::Values(kernels::MathMode::F32, kernels::MathMode::BF16),
                         [](const auto& info) { return info.param == kernels::MathMode::F32 ? "F32" : "BF16"; });

// tiny-a quantized to int8 per channel: every matmul computes a row alike at any row count,
// so the runner does not pad, and batched runs must still equal solo runs.
class EngineOnInt8TinyModel : public EngineOnTinyModel {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "bamba-int8-engine-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    quantize_checkpoint(testing::tiny_model_dir("tiny-a"), dir_ / "int8", {WeightFormat::Int8, 0, {}, {}}, pool_, nullptr);
    model_ = Model::load(dir_ / "int8", {GetParam()});
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::filesystem::path dir_;
};

TEST_P(EngineOnInt8TinyModel, RunsUnpaddedAndBatchedEqualTheirSoloRuns) {
  EXPECT_TRUE(model_->rows_independent());
  expect_batched_equal_solo();
}

INSTANTIATE_TEST_SUITE_P(MathModes, EngineOnInt8TinyModel,
                         ::testing::Values(kernels::MathMode::F32, kernels::MathMode::BF16),
                         [](const auto& info) { return info.param == kernels::MathMode::F32 ? "F32" : "BF16"; });

}  // namespace
}  // namespace bamba

// The public API (include/bamba/bamba.h) on tiny-a: loading, logits, generation, sampling,
// and errors surfacing as std::runtime_error.
#include "bamba/bamba.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "golden_test_data.h"

namespace {

using bamba::testing::golden_tensor;

TEST(PublicApi, LogitsGenerateSample) {
  const auto dir = bamba::testing::tiny_model_dir("tiny-a");
  bamba::api::Model model = bamba::api::Model::load(dir, {.n_threads = 2, .precision = bamba::api::Precision::F32});
  const bamba::api::ModelInfo info = model.info();
  EXPECT_EQ(info.model_type, "bamba");
  EXPECT_EQ(info.vocab_size, 512);
  EXPECT_EQ(info.eos_ids, std::vector<int32_t>{2});
  EXPECT_EQ(info.bos_id, 1);
  EXPECT_FALSE(info.has_tokenizer);

  const auto golden = bamba::io::SafetensorsFile::open(dir / "golden.safetensors");
  const auto ids = golden_tensor<int32_t>(*golden, "ids_17");
  const auto expected = golden_tensor<float>(*golden, "logits_17");
  const std::vector<std::vector<float>> logits = model.logits({ids, {ids[0], ids[1]}});
  ASSERT_EQ(logits.size(), 2u);
  ASSERT_EQ(logits[0].size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_NEAR(logits[0][i], expected[i], 1e-3 + 1e-4 * std::abs(expected[i])) << i;
  }
  for (size_t i = 0; i < logits[1].size(); ++i) ASSERT_NEAR(logits[1][i], logits[0][i], 1e-4);

  bamba::api::GenerateOptions options;
  options.sampling = bamba::api::SamplingOptions{.temperature = 0.0f};
  options.max_new_tokens = 6;
  options.ignore_eos = true;
  const bamba::api::GenerateResult r = model.generate(ids, options);
  EXPECT_EQ(r.tokens.size(), 6u);
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_GT(r.prefill_tokens_per_s, 0.0);

  bamba::api::Sampler sampler({.temperature = 0.0f}, info.vocab_size);
  const std::span<const float> last(logits[0].data() + 16 * 512, 512);
  EXPECT_EQ(sampler.sample(last), r.tokens[0]);

  EXPECT_THROW((void)model.tokenize("no tokenizer here"), std::runtime_error);
  const std::vector<std::vector<int32_t>> outside = {std::vector<int32_t>{1, 9999}};
  EXPECT_THROW((void)model.logits(outside), std::runtime_error);
}

// Int8 KV and a bf16 SSM state: lossy, within the golden's bf16-engine bound (atol 0.61), and
// generation runs on them.
TEST(PublicApi, CacheDtypes) {
  const auto dir = bamba::testing::tiny_model_dir("tiny-a");
  bamba::api::Model model = bamba::api::Model::load(
      dir, {.n_threads = 2, .precision = bamba::api::Precision::F32, .kv_dtype = bamba::api::KvCacheDtype::Int8,
            .state_dtype = bamba::api::StateDtype::BF16});
  const auto golden = bamba::io::SafetensorsFile::open(dir / "golden.safetensors");
  const auto ids = golden_tensor<int32_t>(*golden, "ids_64");
  const auto expected = golden_tensor<float>(*golden, "logits_64");
  const std::vector<std::vector<float>> logits = model.logits({ids});
  ASSERT_EQ(logits[0].size(), expected.size());
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, double(std::abs(logits[0][i] - expected[i])));
  EXPECT_GT(worst, 1e-5);  // not the exact path
  EXPECT_LT(worst, 0.61);
  bamba::api::GenerateOptions options;
  options.sampling = bamba::api::SamplingOptions{.temperature = 0.0f};
  options.max_new_tokens = 4;
  options.ignore_eos = true;
  EXPECT_EQ(model.generate(ids, options).tokens.size(), 4u);
}

TEST(PublicApi, LoadErrorsAreExceptions) {
  EXPECT_THROW((void)bamba::api::Model::load("/nonexistent/model"), std::runtime_error);
}

}  // namespace

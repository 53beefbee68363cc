// The model against the float64-reference goldens of tiny-a and tiny-b, for both engine
// precisions: full prefill, greedy decode, token-by-token and split prefill, several
// sequences in one batch, and prefill beside decode. Every path must give the same logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "golden.h"
#include "model/model.h"
#include "state/state_cache.h"

namespace bamba::testing {
namespace {

struct Param {
  std::string model;
  bool bf16;  // BF16 math + BF16 KV (the default); otherwise MathMode::F32 + F32 KV
};

void PrintTo(const Param& p, std::ostream* os) { *os << p.model << (p.bf16 ? " bf16" : " fp32"); }

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string name = info.param.model + (info.param.bf16 ? "_bf16" : "_fp32");
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

ThreadPool& test_pool() {
  static ThreadPool pool(2);
  return pool;
}

class GoldenTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    golden_ = std::make_unique<Golden>(GetParam().model);
    tol_ = golden_->tolerance(GetParam().bf16);
    LoadOptions load;
    load.math = GetParam().bf16 ? kernels::MathMode::BF16 : kernels::MathMode::F32;
    model_ = Model::load(model_dir(GetParam().model), load);
    V_ = model_->config().vocab_size;
    ASSERT_EQ(V_, golden_->vocab());
  }

  void TearDown() override {
    std::printf("[ measured ] %s %s: max_abs %.3g (atol %.3g), rms_rel %.3g (max %.3g)\n", GetParam().model.c_str(),
                GetParam().bf16 ? "bf16" : "fp32", worst_abs_, tol_.atol, worst_rms_, tol_.rms_rel_max);
  }

  std::unique_ptr<StateCache> make_cache(int max_sequences, int64_t block_len = 16) {
    StateCacheOptions options;
    options.max_sequences = max_sequences;
    options.block_len = block_len;
    options.kv_block_count = max_sequences * ((256 + block_len - 1) / block_len);
    options.kv_dtype = GetParam().bf16 ? DType::BF16 : DType::F32;
    return std::make_unique<StateCache>(model_->config(), options);
  }

  // Runs one batch; returns its logits [logit_rows, V].
  std::vector<float> run(const Batch& batch, StateCache& cache) {
    std::vector<float> logits(batch.logit_rows.size() * size_t(V_));
    model_->forward(batch, cache, logits.data(), test_pool());
    return logits;
  }

  // Appends one sequence's tokens to `batch`, wanting logits of the rows `rows` of it.
  static void add_sequence(Batch& batch, int seq, std::span<const int32_t> tokens, const std::vector<int64_t>& rows) {
    const int64_t begin = int64_t(batch.tokens.size());
    batch.tokens.insert(batch.tokens.end(), tokens.begin(), tokens.end());
    batch.sequences.push_back({seq, begin, int64_t(batch.tokens.size())});
    for (int64_t r : rows) batch.logit_rows.push_back(begin + r);
  }

  static std::vector<int64_t> rows_of(const std::vector<int32_t>& positions) {
    return {positions.begin(), positions.end()};
  }

  void expect_close(std::span<const float> engine, std::span<const float> golden, const std::string& what) {
    const LogitsCheck check = compare_logits(engine, golden, V_, tol_);
    worst_abs_ = std::max(worst_abs_, check.max_abs);
    worst_rms_ = std::max(worst_rms_, check.rms_rel);
    const std::string failure = tolerance_failure(check, tol_);
    EXPECT_TRUE(failure.empty()) << what << ": " << failure << " max_abs " << check.max_abs;
  }

  // The rows of `by_position` [n, V] at the golden's logits positions.
  std::vector<float> at_golden_positions(const std::vector<float>& by_position, int64_t n) const {
    std::vector<float> out;
    for (int32_t p : golden_->logits_positions(n)) {
      out.insert(out.end(), by_position.begin() + p * V_, by_position.begin() + (p + 1) * V_);
    }
    return out;
  }

  std::span<const float> decode_row(int64_t n, int64_t k) const {
    return golden_->decode_logits(n).subspan(size_t(k * V_), size_t(V_));
  }

  // Feeds greedy_n[k] for k = 0..15 one token per call, comparing logits and greedy tokens.
  void decode_and_compare(StateCache& cache, int seq, int64_t n, const std::vector<float>& last_prompt_row) {
    const std::vector<int32_t> greedy = golden_->greedy(n);
    const std::vector<float> margin = golden_->greedy_margin(n);
    bool compare_tokens = margin[0] >= 2 * tol_.atol;
    if (compare_tokens) {
      EXPECT_EQ(argmax(last_prompt_row), greedy[0]) << "n=" << n << " greedy[0]";
    }
    for (int64_t k = 0; k < int64_t(greedy.size()); ++k) {
      Batch batch;
      add_sequence(batch, seq, std::span(&greedy[size_t(k)], 1), {0});
      const std::vector<float> logits = run(batch, cache);
      expect_close(logits, decode_row(n, k), str_cat("n=", n, " decode step ", k));
      if (k + 1 < int64_t(greedy.size())) {
        compare_tokens = compare_tokens && margin[size_t(k + 1)] >= 2 * tol_.atol;
        if (compare_tokens) {
          EXPECT_EQ(argmax(logits), greedy[size_t(k + 1)]) << "n=" << n << " greedy[" << k + 1 << "]";
        }
      }
    }
  }

  std::unique_ptr<Golden> golden_;
  std::unique_ptr<Model> model_;
  Tolerance tol_;
  int64_t V_ = 0;
  double worst_abs_ = 0, worst_rms_ = 0;
};

TEST_P(GoldenTest, PrefillThenGreedyDecode) {
  for (int64_t n : golden_->lengths()) {
    auto cache = make_cache(1);
    const int seq = *cache->acquire();
    Batch batch;
    const std::vector<int32_t> positions = golden_->logits_positions(n);
    add_sequence(batch, seq, golden_->ids(n), rows_of(positions));
    const std::vector<float> logits = run(batch, *cache);
    expect_close(logits, golden_->logits(n), str_cat("prefill n=", n));
    ASSERT_EQ(cache->n_tokens(seq), n);
    ASSERT_EQ(positions.back(), n - 1);
    decode_and_compare(*cache, seq, n, std::vector<float>(logits.end() - V_, logits.end()));
  }
}

TEST_P(GoldenTest, TokenByTokenPrefill) {
  for (int64_t n : golden_->lengths()) {
    auto cache = make_cache(1);
    const int seq = *cache->acquire();
    const std::vector<int32_t> ids = golden_->ids(n);
    std::vector<float> by_position;
    for (int64_t t = 0; t < n; ++t) {
      Batch batch;
      add_sequence(batch, seq, std::span(&ids[size_t(t)], 1), {0});
      const std::vector<float> row = run(batch, *cache);
      by_position.insert(by_position.end(), row.begin(), row.end());
    }
    expect_close(at_golden_positions(by_position, n), golden_->logits(n), str_cat("token by token n=", n));
    // The decode state left by token-by-token prefill continues like the chunked one.
    decode_and_compare(*cache, seq, n, std::vector<float>(by_position.end() - V_, by_position.end()));
  }
}

TEST_P(GoldenTest, SplitPrefill) {
  for (int64_t n : golden_->lengths()) {
    const std::vector<int32_t> ids = golden_->ids(n);
    for (int64_t split : {int64_t(1), int64_t(3), int64_t(16), int64_t(33), n - 1}) {
      if (split <= 0 || split >= n) continue;
      auto cache = make_cache(1, 7);
      const int seq = *cache->acquire();
      std::vector<float> by_position;
      for (auto [begin, end] : {std::pair{int64_t(0), split}, std::pair{split, n}}) {
        Batch batch;
        std::vector<int64_t> rows(size_t(end - begin));
        for (int64_t r = 0; r < end - begin; ++r) rows[size_t(r)] = r;
        add_sequence(batch, seq, std::span(ids).subspan(size_t(begin), size_t(end - begin)), rows);
        const std::vector<float> logits = run(batch, *cache);
        by_position.insert(by_position.end(), logits.begin(), logits.end());
      }
      expect_close(at_golden_positions(by_position, n), golden_->logits(n), str_cat("split n=", n, " at ", split));
    }
  }
}

TEST_P(GoldenTest, AllLengthsInOneBatch) {
  const std::vector<int64_t>& lengths = golden_->lengths();
  auto cache = make_cache(int(lengths.size()), 5);
  std::vector<int> seqs;
  Batch prompts;
  for (int64_t n : lengths) {
    seqs.push_back(*cache->acquire());
    add_sequence(prompts, seqs.back(), golden_->ids(n), rows_of(golden_->logits_positions(n)));
  }
  const std::vector<float> logits = run(prompts, *cache);
  size_t offset = 0;
  for (int64_t n : lengths) {
    const std::span<const float> golden = golden_->logits(n);
    expect_close(std::span(logits).subspan(offset, golden.size()), golden, str_cat("batched prefill n=", n));
    offset += golden.size();
  }
  // Then every sequence decodes its greedy continuation, all five in each step.
  for (int64_t k = 0; k < 16; ++k) {
    Batch step;
    for (size_t i = 0; i < lengths.size(); ++i) {
      const std::vector<int32_t> greedy = golden_->greedy(lengths[i]);
      add_sequence(step, seqs[i], std::span(&greedy[size_t(k)], 1), {0});
    }
    const std::vector<float> rows = run(step, *cache);
    for (size_t i = 0; i < lengths.size(); ++i) {
      expect_close(std::span(rows).subspan(i * size_t(V_), size_t(V_)), decode_row(lengths[i], k),
                   str_cat("batched decode n=", lengths[i], " step ", k));
    }
  }
}

TEST_P(GoldenTest, PrefillBesideDecode) {
  auto cache = make_cache(3);
  const int a = *cache->acquire(), b = *cache->acquire();
  const std::vector<int32_t> greedy17 = golden_->greedy(17), greedy64 = golden_->greedy(64);
  Batch first;
  add_sequence(first, a, golden_->ids(17), {});
  (void)run(first, *cache);
  // a decodes greedy_17[0] while b runs its whole 64-token prompt.
  Batch mixed;
  add_sequence(mixed, a, std::span(&greedy17[0], 1), {0});
  add_sequence(mixed, b, golden_->ids(64), rows_of(golden_->logits_positions(64)));
  const std::vector<float> logits = run(mixed, *cache);
  expect_close(std::span(logits).first(size_t(V_)), decode_row(17, 0), "decode beside prefill");
  expect_close(std::span(logits).subspan(size_t(V_)), golden_->logits(64), "prefill beside decode");
  // Then a and b decode while a third sequence c runs the 5-token prompt, in that order.
  const int c = *cache->acquire();
  Batch three;
  add_sequence(three, c, golden_->ids(5), rows_of(golden_->logits_positions(5)));
  add_sequence(three, a, std::span(&greedy17[1], 1), {0});
  add_sequence(three, b, std::span(&greedy64[0], 1), {0});
  const std::vector<float> rows = run(three, *cache);
  const std::span<const float> golden5 = golden_->logits(5);
  expect_close(std::span(rows).first(golden5.size()), golden5, "prefill n=5 before two decodes");
  expect_close(std::span(rows).subspan(golden5.size(), size_t(V_)), decode_row(17, 1), "decode n=17 step 1");
  expect_close(std::span(rows).subspan(golden5.size() + size_t(V_)), decode_row(64, 0), "decode n=64 step 0");
}

INSTANTIATE_TEST_SUITE_P(Bamba, GoldenTest,
                         ::testing::Values(Param{"tiny-a", false}, Param{"tiny-a", true}, Param{"tiny-b", false},
                                           Param{"tiny-b", true}),
                         param_name);

}  // namespace
}  // namespace bamba::testing

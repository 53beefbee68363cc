// Bad batches are bamba::Errors thrown before any state changes: tokens out of range,
// unknown or released slots, spans that are not consecutive, logit rows out of range, a
// full KV pool, a context beyond max_position_embeddings.
#include <gtest/gtest.h>

#include "base/error.h"
#include "checkpoint_edit.h"
#include "golden.h"
#include "model/model.h"

namespace bamba::testing {
namespace {

class BatchErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = Model::load(model_dir("tiny-a"), LoadOptions{});
    StateCacheOptions options;
    options.max_sequences = 3;
    options.kv_block_count = 4;
    options.block_len = 16;
    cache_ = std::make_unique<StateCache>(model_->config(), options);
    a_ = *cache_->acquire();
    b_ = *cache_->acquire();
    logits_.resize(size_t(8 * model_->config().vocab_size));
  }

  void expect_error(const Batch& batch, const std::string& part) {
    const int64_t before_a = cache_->n_tokens(a_), before_b = cache_->n_tokens(b_);
    const int64_t free_before = cache_->free_blocks();
    try {
      model_->forward(batch, *cache_, logits_.data(), pool_);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << "  lacks: " << part;
    }
    EXPECT_EQ(cache_->n_tokens(a_), before_a);
    EXPECT_EQ(cache_->n_tokens(b_), before_b);
    EXPECT_EQ(cache_->free_blocks(), free_before);
  }

  std::unique_ptr<Model> model_;
  std::unique_ptr<StateCache> cache_;
  ThreadPool pool_{1};
  int a_ = -1, b_ = -1;
  std::vector<float> logits_;
};

TEST_F(BatchErrors, TokenOutOfVocabulary) {
  expect_error({{1, 512, 3}, {{a_, 0, 3}}, {2}}, "id 512 is outside the vocabulary [0, 512)");
  expect_error({{-1}, {{a_, 0, 1}}, {0}}, "id -1");
}

TEST_F(BatchErrors, UnknownOrReleasedSlot) {
  expect_error({{1, 2}, {{7, 0, 2}}, {}}, "sequence 7");
  expect_error({{1, 2}, {{-1, 0, 2}}, {}}, "sequence -1");
  const int c = *cache_->acquire();
  cache_->release(c);
  expect_error({{1, 2}, {{c, 0, 2}}, {}}, "not an acquired state slot");
}

TEST_F(BatchErrors, SpansNotConsecutive) {
  expect_error({{1, 2, 3}, {{a_, 0, 1}, {b_, 2, 3}}, {}}, "starting at 1");
  expect_error({{1, 2, 3}, {{a_, 0, 2}}, {}}, "cover 2 of its 3 tokens");
  expect_error({{1, 2, 3}, {{a_, 0, 4}}, {}}, "span [0, 4)");
  expect_error({{1, 2, 3}, {{a_, 0, 0}, {b_, 0, 3}}, {}}, "non-empty");
  expect_error({{1, 2, 3}, {{a_, 0, 1}, {a_, 1, 3}}, {}}, "twice");
}

TEST_F(BatchErrors, LogitRowOutOfRange) {
  expect_error({{1, 2, 3}, {{a_, 0, 3}}, {3}}, "logit row 3");
  expect_error({{1, 2, 3}, {{a_, 0, 3}}, {-1}}, "logit row -1");
}

TEST_F(BatchErrors, KvPoolExhausted) {
  // 4 blocks of 16 positions: 65 positions do not fit.
  expect_error({std::vector<int32_t>(65, 1), {{a_, 0, 65}}, {}}, "KV pool has 4 free");
  // 64 do, and then nothing more.
  model_->forward({std::vector<int32_t>(64, 1), {{a_, 0, 64}}, {}}, *cache_, logits_.data(), pool_);
  EXPECT_EQ(cache_->n_tokens(a_), 64);
  expect_error({{1}, {{b_, 0, 1}}, {0}}, "KV pool");
}

TEST_F(BatchErrors, KvPoolTooSmallForTheWholeBatch) {
  // 40 positions each (3 blocks) fit alone in the 4 blocks, but not together.
  std::vector<int32_t> tokens(80, 1);
  expect_error({tokens, {{a_, 0, 40}, {b_, 40, 80}}, {}}, "need 6 more KV blocks");
}

TEST_F(BatchErrors, ContextBeyondMaxPositionEmbeddings) {
  EditableCheckpoint ckpt("tiny-a");
  ckpt.config()["max_position_embeddings"] = 8;
  model_ = Model::load(ckpt.write(), LoadOptions{});
  model_->forward({std::vector<int32_t>(6, 1), {{a_, 0, 6}}, {}}, *cache_, logits_.data(), pool_);
  expect_error({{1, 2, 3}, {{a_, 0, 3}}, {}}, "max_position_embeddings (8)");
}

TEST_F(BatchErrors, EmptyBatchIsANoOp) {
  EXPECT_NO_THROW(model_->forward(Batch{}, *cache_, logits_.data(), pool_));
  expect_error({{}, {}, {0}}, "logit row 0");
}

}  // namespace
}  // namespace bamba::testing

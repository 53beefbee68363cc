// Scheduler stages without a model: admission (slots, KV reservation, queue limit) and the
// per-step token budget (whole prompt chunks, decode tokens beside them).
#include "runtime/scheduler.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace bamba {
namespace {

std::shared_ptr<Request> make_request(uint64_t id, int64_t n_prompt, int64_t max_new) {
  RequestParams params;
  params.prompt.assign(size_t(n_prompt), 7);
  params.max_new_tokens = max_new;
  return std::make_shared<Request>(id, std::move(params));
}

SchedulerOptions options(int max_seqs, int64_t budget, int64_t chunk, int64_t blocks) {
  return {.max_seqs = max_seqs, .max_batch_tokens = budget, .prefill_chunk = chunk,
          .kv_block_len = 16, .kv_blocks = blocks, .max_waiting = 4};
}

// Pretends the step ran: each scheduled chunk is computed, and a chunk that reached the end
// of the known tokens yields one new token.
void run_plan(const StepPlan& plan) {
  for (const ScheduledChunk& chunk : plan.chunks) {
    chunk.request->num_computed += chunk.n_tokens;
    if (chunk.wants_logits) chunk.request->tokens.push_back(1);
  }
}

TEST(Scheduler, AdmitsUpToMaxSeqs) {
  Scheduler scheduler(options(2, 1000, 100, 1000));
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(scheduler.enqueue(make_request(id, 10, 6)));
  const StepPlan plan = scheduler.schedule();
  ASSERT_EQ(plan.admitted.size(), 2u);
  EXPECT_EQ(plan.admitted[0]->id, 1u);
  EXPECT_EQ(plan.admitted[1]->id, 2u);
  EXPECT_EQ(scheduler.waiting().size(), 1u);
  EXPECT_EQ(scheduler.reserved_blocks(), 2);  // 16 tokens each: one block
}

TEST(Scheduler, ReservesKvForTheWholeGenerationAndWaitsFirstComeFirstServed) {
  // Pool of 4 blocks (64 positions). Request 1 needs 3 blocks, request 2 needs 2, request 3
  // needs 1: request 3 would fit, but it queues behind request 2.
  Scheduler scheduler(options(8, 1000, 100, 4));
  auto r1 = make_request(1, 40, 8);
  auto r2 = make_request(2, 20, 12);
  auto r3 = make_request(3, 8, 8);
  ASSERT_TRUE(scheduler.enqueue(r1));
  ASSERT_TRUE(scheduler.enqueue(r2));
  ASSERT_TRUE(scheduler.enqueue(r3));
  StepPlan plan = scheduler.schedule();
  ASSERT_EQ(plan.admitted.size(), 1u);
  EXPECT_EQ(scheduler.reserved_blocks(), 3);
  EXPECT_EQ(scheduler.waiting().size(), 2u);

  ASSERT_NE(scheduler.remove(r1.get()), nullptr);
  EXPECT_EQ(scheduler.reserved_blocks(), 0);
  plan = scheduler.schedule();
  ASSERT_EQ(plan.admitted.size(), 2u);
  EXPECT_EQ(scheduler.reserved_blocks(), 3);
}

TEST(Scheduler, FitsPoolAndQueueLimit) {
  Scheduler scheduler(options(1, 64, 32, 2));
  EXPECT_TRUE(scheduler.fits_pool(*make_request(1, 30, 2)));
  EXPECT_FALSE(scheduler.fits_pool(*make_request(1, 30, 3)));  // 33 positions: 3 blocks
  for (uint64_t id = 1; id <= 4; ++id) EXPECT_TRUE(scheduler.enqueue(make_request(id, 1, 1)));
  EXPECT_FALSE(scheduler.enqueue(make_request(5, 1, 1)));
}

TEST(Scheduler, PromptChunksAreWholeAndDecodeTokensRunBesideThem) {
  // Timeline, budget 11, chunk 8:
  //   step 1: A prompt [0,8)                        (B's chunk of 8 does not fit beside it)
  //   step 2: A prompt [8,12) + B prompt [0,5)      A's last chunk yields a token
  //   step 3: A decode 1 + B decode 1
  Scheduler scheduler(options(4, 11, 8, 100));
  auto a = make_request(1, 12, 4);
  auto b = make_request(2, 5, 4);
  ASSERT_TRUE(scheduler.enqueue(a));
  ASSERT_TRUE(scheduler.enqueue(b));

  StepPlan plan = scheduler.schedule();
  ASSERT_EQ(plan.chunks.size(), 1u);
  EXPECT_EQ(plan.chunks[0].request, a.get());
  EXPECT_EQ(plan.chunks[0].n_tokens, 8);
  EXPECT_FALSE(plan.chunks[0].wants_logits);
  run_plan(plan);

  plan = scheduler.schedule();
  ASSERT_EQ(plan.chunks.size(), 2u);
  EXPECT_EQ(plan.chunks[0].n_tokens, 4);
  EXPECT_TRUE(plan.chunks[0].wants_logits);
  EXPECT_EQ(plan.chunks[1].request, b.get());
  EXPECT_EQ(plan.chunks[1].n_tokens, 5);
  EXPECT_TRUE(plan.chunks[1].wants_logits);
  run_plan(plan);

  plan = scheduler.schedule();  // both decode: one token each
  ASSERT_EQ(plan.chunks.size(), 2u);
  EXPECT_EQ(plan.n_tokens(), 2);
  EXPECT_TRUE(plan.chunks[0].wants_logits && plan.chunks[1].wants_logits);
}

TEST(Scheduler, ChunkBoundariesDoNotDependOnNeighbours) {
  // The same 20-token prompt, alone and behind three decoders, is cut at 8, 16 and 20.
  for (int n_decoders : {0, 3}) {
    Scheduler scheduler(options(4, 11, 8, 100));
    std::vector<std::shared_ptr<Request>> decoders;
    for (int i = 0; i < n_decoders; ++i) {
      decoders.push_back(make_request(uint64_t(10 + i), 1, 50));
      ASSERT_TRUE(scheduler.enqueue(decoders.back()));
    }
    auto prompt = make_request(1, 20, 2);
    ASSERT_TRUE(scheduler.enqueue(prompt));
    std::vector<int64_t> cuts;
    for (int step = 0; step < 20 && prompt->num_computed < 20; ++step) {
      const StepPlan plan = scheduler.schedule();
      EXPECT_LE(plan.n_tokens(), 11);
      for (const ScheduledChunk& chunk : plan.chunks)
        if (chunk.request == prompt.get()) cuts.push_back(prompt->num_computed + chunk.n_tokens);
      run_plan(plan);
    }
    EXPECT_EQ(cuts, (std::vector<int64_t>{8, 16, 20})) << n_decoders << " decoders";
  }
}

TEST(Scheduler, RejectsBadOptions) {
  EXPECT_THROW(Scheduler(options(0, 10, 8, 10)), Error);
  EXPECT_THROW(Scheduler(options(1, 10, 11, 10)), Error);
  EXPECT_THROW(Scheduler(options(1, 10, 0, 10)), Error);
  EXPECT_THROW(Scheduler(options(4, 10, 8, 10)), Error);  // 8 + 3 decode tokens > 10
}

}  // namespace
}  // namespace bamba

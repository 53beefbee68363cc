// ThreadPool: ranges cover [0, n) exactly once, every thread runs run_on_all, rapid calls,
// nested calls run serially, exceptions reach the caller.
#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bamba {
namespace {

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_THROW(ThreadPool(0), std::exception); }

TEST(ThreadPool, RangesCoverEveryIndexOnce) {
  for (int n_threads : {1, 2, 3, 5}) {
    ThreadPool pool(n_threads);
    EXPECT_EQ(pool.size(), n_threads);
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> calls{0};
      pool.parallel_for(n, [&](int64_t begin, int64_t end) {
        EXPECT_LT(begin, end);
        ++calls;
        for (int64_t i = begin; i < end; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
      EXPECT_LE(calls.load(), n_threads);
    }
  }
}

TEST(ThreadPool, RangesAreEven) {
  ThreadPool pool(2);
  std::vector<int64_t> sizes(2, -1);
  std::atomic<int> slot{0};
  pool.parallel_for(101, [&](int64_t begin, int64_t end) { sizes[slot++] = end - begin; });
  ASSERT_EQ(slot.load(), 2);
  EXPECT_LE(std::abs(sizes[0] - sizes[1]), 1);
}

TEST(ThreadPool, RunOnAllReachesEveryThread) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> seen(3);
  std::vector<std::thread::id> ids(3);
  pool.run_on_all([&](int index, int n_threads) {
    EXPECT_EQ(n_threads, 3);
    seen[index]++;
    ids[index] = std::this_thread::get_id();
  });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
  EXPECT_EQ(ids[0], std::this_thread::get_id());  // the caller takes a share
  EXPECT_NE(ids[1], ids[2]);
}

TEST(ThreadPool, ManyRapidCalls) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int call = 0; call < 20000; ++call) {
    pool.parallel_for(10, [&](int64_t begin, int64_t end) { total += end - begin; });
  }
  EXPECT_EQ(total.load(), 20000 * 10);
}

TEST(ThreadPool, CallsAfterIdlePeriodsWakeWorkers) {
  ThreadPool pool(2);
  for (int call = 0; call < 5; ++call) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // workers fall asleep
    std::atomic<int64_t> total{0};
    pool.parallel_for(100, [&](int64_t begin, int64_t end) { total += end - begin; });
    EXPECT_EQ(total.load(), 100);
  }
}

TEST(ThreadPool, NestedCallRunsSeriallyOnTheCallingThread) {
  ThreadPool pool(2);
  std::atomic<int64_t> inner_total{0};
  pool.parallel_for(4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto outer_thread = std::this_thread::get_id();
      int inner_calls = 0;
      pool.parallel_for(50, [&](int64_t b, int64_t e) {
        EXPECT_EQ(std::this_thread::get_id(), outer_thread);
        ++inner_calls;
        inner_total += e - b;
      });
      EXPECT_EQ(inner_calls, 1);
    }
  });
  EXPECT_EQ(inner_total.load(), 4 * 50);
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(10, [](int64_t begin, int64_t) {
    if (begin > 0) throw std::runtime_error("worker share");
  }),
               std::runtime_error);
  EXPECT_THROW(pool.parallel_for(10, [](int64_t begin, int64_t) {
    if (begin == 0) throw std::runtime_error("caller share");
  }),
               std::runtime_error);
  std::atomic<int64_t> total{0};  // still usable afterwards
  pool.parallel_for(10, [&](int64_t begin, int64_t end) { total += end - begin; });
  EXPECT_EQ(total.load(), 10);
}

TEST(ThreadPool, CallsFromSeveralThreadsAreSerialised) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&] {
      for (int call = 0; call < 500; ++call) {
        pool.parallel_for(8, [&](int64_t begin, int64_t end) { total += end - begin; });
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(total.load(), 3 * 500 * 8);
}

TEST(ThreadPool, DefaultThreadCountIsPositive) { EXPECT_GE(default_thread_count(), 1); }

}  // namespace
}  // namespace bamba

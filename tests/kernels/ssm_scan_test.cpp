// SSM scan: the recurrence on a hand-computed case, and the chunked SSD form (every ISA)
// against the recurrence for several chunk lengths, group counts and ragged token counts,
// continuing from a non-zero state.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

using testing::random_floats;

// Inputs of one scan, owning their storage; args() views them.
struct ScanInputs {
  int64_t tokens, heads, head_dim, groups, d_state;
  int64_t x_stride, bc_stride, y_stride;
  std::vector<float> x, bc, dt, A, D, state0;  // bc: [tokens, B | C], row stride bc_stride

  ScanInputs(int64_t tokens_, int64_t heads_, int64_t head_dim_, int64_t groups_, int64_t d_state_,
             uint32_t seed, float a_scale = 1.0f)
      : tokens(tokens_), heads(heads_), head_dim(head_dim_), groups(groups_), d_state(d_state_) {
    x_stride = heads * head_dim + 3;
    bc_stride = 2 * groups * d_state + 1;
    y_stride = heads * head_dim + 2;
    x = random_floats(size_t(tokens * x_stride), seed);
    bc = random_floats(size_t(tokens * bc_stride), seed + 1);
    dt = random_floats(size_t(tokens * heads), seed + 2, 0.05f, 1.5f);
    A = random_floats(size_t(heads), seed + 3, 0.2f, 3.0f);
    for (float& a : A) a = -a * a_scale;
    D = random_floats(size_t(heads), seed + 4);
    state0 = random_floats(size_t(heads * head_dim * d_state), seed + 5);
  }

  SsmScanArgs args(float* state, float* y) const {
    SsmScanArgs a;
    a.n_tokens = tokens;
    a.n_heads = heads;
    a.head_dim = head_dim;
    a.n_groups = groups;
    a.d_state = d_state;
    a.x = x.data();
    a.x_stride = x_stride;
    a.B = bc.data();
    a.C = bc.data() + groups * d_state;
    a.bc_stride = bc_stride;
    a.dt = dt.data();
    a.A = A.data();
    a.D = D.data();
    a.state = state;
    a.y = y;
    a.y_stride = y_stride;
    return a;
  }
};

TEST(SsmScan, RecurrenceByHand) {
  // One head, P = 1, N = 2, two tokens, starting from state [0.5, -1].
  const float x[2] = {2, -1}, B[2 * 2] = {1, 0.5f, -1, 2}, C[2 * 2] = {0.5f, 1, 1, -0.5f};
  const float dt[2] = {0.5f, 0.25f}, A = -2, D = 0.5f;
  testing::for_each_isa([&](Isa) {
    float state[2] = {0.5f, -1}, y[2];
    SsmScanArgs a;
    a.n_tokens = 2, a.n_heads = 1, a.head_dim = 1, a.n_groups = 1, a.d_state = 2;
    a.x = x, a.x_stride = 1, a.B = B, a.C = C, a.bc_stride = 2, a.dt = dt, a.A = &A, a.D = &D;
    a.state = state, a.y = y, a.y_stride = 1;
    ThreadPool pool(1);
    ssm_scan_recurrent(a, pool);
    double S[2] = {0.5, -1}, want_y[2];
    for (int t = 0; t < 2; ++t) {
      const double decay = std::exp(double(dt[t]) * A);
      for (int n = 0; n < 2; ++n) S[n] = decay * S[n] + double(dt[t]) * x[t] * B[t * 2 + n];
      want_y[t] = S[0] * C[t * 2] + S[1] * C[t * 2 + 1] + D * x[t];
    }
    EXPECT_NEAR(y[0], want_y[0], 1e-6);
    EXPECT_NEAR(y[1], want_y[1], 1e-6);
    EXPECT_NEAR(state[0], S[0], 1e-6);
    EXPECT_NEAR(state[1], S[1], 1e-6);
  });
}

void expect_chunked_matches_recurrent(const ScanInputs& in, int64_t chunk_len, ThreadPool& pool) {
  std::vector<float> want_state = in.state0, want_y(size_t(in.tokens * in.y_stride), -7.0f);
  reference::ssm_scan_recurrent(in.args(want_state.data(), want_y.data()), pool);
  testing::for_each_isa([&](Isa) {
    SCOPED_TRACE(::testing::Message() << "chunk_len=" << chunk_len << " tokens=" << in.tokens
                                    << " groups=" << in.groups);
    std::vector<float> state = in.state0, y(want_y.size(), -7.0f);
    ssd_chunk_scan(in.args(state.data(), y.data()), chunk_len, pool);
    testing::expect_close(y, want_y, 2e-5f, 2e-4f, "y");
    testing::expect_close(state, want_state, 2e-5f, 2e-4f, "state");

    std::vector<float> rec_state = in.state0, rec_y(want_y.size(), -7.0f);
    ssm_scan_recurrent(in.args(rec_state.data(), rec_y.data()), pool);
    testing::expect_close(rec_y, want_y, 1e-5f, 1e-4f, "recurrent y");
    testing::expect_close(rec_state, want_state, 1e-5f, 1e-4f, "recurrent state");
  });
}

TEST(SsdChunkScan, MatchesRecurrence) {
  ThreadPool pool(2);
  uint32_t seed = 10;
  for (int64_t chunk_len : {1, 8, 16, 33}) {
    for (int64_t groups : {1, 2, 4}) {
      for (int64_t tokens : {int64_t(1), int64_t(5), chunk_len - 1, chunk_len, chunk_len + 1, 3 * chunk_len + 7}) {
        if (tokens < 1) continue;
        const ScanInputs in(tokens, 8, 5, groups, 19, seed++);
        expect_chunked_matches_recurrent(in, chunk_len, pool);
      }
    }
  }
}

TEST(SsdChunkScan, StrongDecayStaysFinite) {
  // Cumulative log-decays reach thousands: exp of an unmasked (s > t) difference would overflow.
  ThreadPool pool(2);
  const ScanInputs in(70, 4, 16, 2, 16, 77, /*a_scale=*/40.0f);
  expect_chunked_matches_recurrent(in, 64, pool);
}

TEST(SsdChunkScan, RealisticHeadShape) {
  ThreadPool pool(2);
  const ScanInputs in(100, 4, 64, 1, 128, 91);
  expect_chunked_matches_recurrent(in, 32, pool);
}

TEST(SsdChunkScan, WidthsBetweenVectorMultiples) {
  // head_dim and d_state that are neither below one vector nor a multiple of it (full
  // vectors plus a tail on both 8- and 16-lane ISAs), chunk lengths off the 4-row tile.
  ThreadPool pool(2);
  const ScanInputs in(90, 3, 24, 3, 40, 123);
  for (int64_t chunk_len : {30, 41}) expect_chunked_matches_recurrent(in, chunk_len, pool);
}

}  // namespace
}  // namespace bamba::kernels

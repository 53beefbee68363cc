// causal_conv1d_silu: a direct sum with the window in front, continuation across calls,
// and variants vs reference.
#include <gtest/gtest.h>

#include <cmath>
#include <iterator>

#include "kernel_test_util.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

using testing::random_floats;

double silu(double v) { return v / (1 + std::exp(-v)); }

TEST(CausalConv1d, DirectSum) {
  const int64_t channels = 3, d_conv = 4, tokens = 2, in_stride = 5, out_stride = 4;
  const auto in = random_floats(tokens * in_stride, 1);
  const auto w = random_floats(channels * d_conv, 2);
  const auto bias = random_floats(channels, 3);
  const auto window0 = random_floats((d_conv - 1) * channels, 4);
  testing::for_each_isa([&](Isa) {
    std::vector<float> window = window0, out(tokens * out_stride, -7.0f);
    causal_conv1d_silu(in.data(), in_stride, tokens, channels, window.data(), w.data(), bias.data(), d_conv,
                       out.data(), out_stride);
    // Stream position r: window rows 0..2 then tokens 0..1; tap d_conv-1 is the current token.
    const auto stream = [&](int64_t r, int64_t c) {
      return r < d_conv - 1 ? window0[r * channels + c] : in[(r - (d_conv - 1)) * in_stride + c];
    };
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t c = 0; c < channels; ++c) {
        double sum = bias[c];
        for (int64_t k = 0; k < d_conv; ++k) sum += double(w[c * d_conv + k]) * stream(t + k, c);
        EXPECT_NEAR(out[t * out_stride + c], silu(sum), 1e-6);
      }
      EXPECT_EQ(out[t * out_stride + channels], -7.0f);
    }
    // The window now holds stream rows 2, 3, 4: the last three raw inputs.
    for (int64_t r = 0; r < d_conv - 1; ++r) {
      for (int64_t c = 0; c < channels; ++c) EXPECT_EQ(window[r * channels + c], stream(tokens + r, c));
    }
  });
}

TEST(CausalConv1d, SplitCallsEqualOneCall) {
  const int64_t channels = 37, d_conv = 4, tokens = 9;
  const auto in = random_floats(tokens * channels, 5);
  const auto w = random_floats(channels * d_conv, 6);
  testing::for_each_isa([&](Isa) {
    std::vector<float> window_whole((d_conv - 1) * channels, 0.0f), whole(tokens * channels);
    causal_conv1d_silu(in.data(), channels, tokens, channels, window_whole.data(), w.data(), nullptr, d_conv,
                       whole.data(), channels);
    std::vector<float> window_split((d_conv - 1) * channels, 0.0f), split(tokens * channels);
    const int64_t cuts[] = {0, 1, 2, 6, tokens};  // pieces of 1, 1, 4, 3 tokens, some shorter than the window
    for (size_t i = 0; i + 1 < std::size(cuts); ++i) {
      const int64_t begin = cuts[i], end = cuts[i + 1];
      causal_conv1d_silu(in.data() + begin * channels, channels, end - begin, channels, window_split.data(),
                         w.data(), nullptr, d_conv, split.data() + begin * channels, channels);
    }
    testing::expect_close(split, whole, 0, 0);
    testing::expect_close(window_split, window_whole, 0, 0, "window");
  });
}

TEST(CausalConv1d, VariantsMatchReference) {
  for (int64_t d_conv : {1, 2, 4}) {
    const int64_t channels = 67, tokens = 11, in_stride = 80, out_stride = 70;
    const auto in = random_floats(tokens * in_stride, 7);
    const auto w = random_floats(channels * d_conv, 8);
    const auto bias = random_floats(channels, 9);
    const auto window0 = random_floats((d_conv - 1) * channels + 1, 10);
    std::vector<float> want_window = window0, want(tokens * out_stride, -7.0f);
    reference::causal_conv1d_silu(in.data(), in_stride, tokens, channels, want_window.data(), w.data(), bias.data(),
                                  d_conv, want.data(), out_stride);
    testing::for_each_isa([&](Isa) {
      std::vector<float> window = window0, got(tokens * out_stride, -7.0f);
      causal_conv1d_silu(in.data(), in_stride, tokens, channels, window.data(), w.data(), bias.data(), d_conv,
                         got.data(), out_stride);
      testing::expect_close(got, want, 1e-6f, 1e-5f, "d_conv=" + std::to_string(d_conv));
      testing::expect_close(window, want_window, 0, 0, "window");
    });
  }
}

}  // namespace
}  // namespace bamba::kernels

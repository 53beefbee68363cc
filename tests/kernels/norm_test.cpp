// rms_norm and the per-group gated_rms_norm: hand-computed cases and variants vs reference.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

using testing::random_floats;

double silu(double v) { return v / (1 + std::exp(-v)); }

TEST(RmsNorm, HandComputed) {
  const float x[4] = {1, -2, 3, 4};  // mean square 7.5
  const float w[4] = {1, 2, 0.5f, -1};
  const float eps = 1e-5f;
  testing::for_each_isa([&](Isa) {
    float y[4];
    rms_norm(x, 1, 4, w, eps, y);
    const double inv = 1 / std::sqrt(7.5 + eps);
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(y[c], w[c] * x[c] * inv, 1e-6);
  });
}

TEST(RmsNorm, InPlaceMatchesReference) {
  for (int64_t n : {1, 7, 64, 257}) {
    const auto x = random_floats(size_t(3 * n), uint32_t(n));
    const auto w = random_floats(size_t(n), uint32_t(n + 1));
    std::vector<float> want(x.size());
    reference::rms_norm(x.data(), 3, n, w.data(), 1e-5f, want.data());
    testing::for_each_isa([&](Isa) {
      std::vector<float> got = x;
      rms_norm(got.data(), 3, n, w.data(), 1e-5f, got.data());
      testing::expect_close(got, want, 1e-6f, 1e-5f, "n=" + std::to_string(n));
    });
  }
}

TEST(GatedRmsNorm, StatisticsPerGroup) {
  // Two groups of two channels: each group is normalised by its own RMS of y·silu(z).
  const float y[4] = {1, 2, -3, 0.5f}, z[4] = {0.5f, -1, 2, 3}, w[4] = {1, -1, 2, 0.5f};
  const float eps = 1e-5f;
  testing::for_each_isa([&](Isa) {
    float out[4];
    gated_rms_norm(y, 4, z, 4, 1, 4, 2, w, eps, out, 4);
    for (int g = 0; g < 2; ++g) {
      const double u0 = y[2 * g] * silu(z[2 * g]), u1 = y[2 * g + 1] * silu(z[2 * g + 1]);
      const double inv = 1 / std::sqrt((u0 * u0 + u1 * u1) / 2 + eps);
      EXPECT_NEAR(out[2 * g], w[2 * g] * u0 * inv, 1e-5);
      EXPECT_NEAR(out[2 * g + 1], w[2 * g + 1] * u1 * inv, 1e-5);
    }
  });
}

TEST(GatedRmsNorm, VariantsMatchReference) {
  for (int64_t groups : {1, 2, 4}) {
    const int64_t n = 37 * groups, m = 5;
    const int64_t y_stride = n + 3, z_stride = 2 * n + 1, out_stride = n + 5;
    const auto y = random_floats(size_t(m * y_stride), 1);
    const auto z = random_floats(size_t(m * z_stride), 2, -4, 4);
    const auto w = random_floats(size_t(n), 3);
    std::vector<float> want(size_t(m * out_stride), -7.0f);
    reference::gated_rms_norm(y.data(), y_stride, z.data(), z_stride, m, n, groups, w.data(), 1e-5f,
                              want.data(), out_stride);
    testing::for_each_isa([&](Isa) {
      std::vector<float> got(want.size(), -7.0f);
      gated_rms_norm(y.data(), y_stride, z.data(), z_stride, m, n, groups, w.data(), 1e-5f, got.data(),
                     out_stride);
      testing::expect_close(got, want, 1e-6f, 1e-5f, "groups=" + std::to_string(groups));
    });
  }
}

}  // namespace
}  // namespace bamba::kernels

// rope: the partial rotate-half formula on a tiny case, and variants vs reference.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

TEST(Rope, PartialRotateHalfFormula) {
  // 2 tokens × 2 heads × head_dim 6, rotary_dim 4: pairs (0,2) and (1,3); channels 4,5 pass.
  const int64_t heads = 2, head_dim = 6, rotary_dim = 4, stride = heads * head_dim + 1;
  const float theta = 500000.0f;
  const int32_t positions[2] = {3, 1000};
  const auto x = testing::random_floats(size_t(2 * stride), 7);
  testing::for_each_isa([&](Isa) {
    std::vector<float> got = x;
    rope(got.data(), 2, stride, heads, head_dim, rotary_dim, theta, positions);
    for (int t = 0; t < 2; ++t) {
      for (int h = 0; h < heads; ++h) {
        const float* in = x.data() + t * stride + h * head_dim;
        const float* out = got.data() + t * stride + h * head_dim;
        for (int j = 0; j < 2; ++j) {
          const double angle = positions[t] * std::pow(double(theta), -2.0 * j / rotary_dim);
          const double c = std::cos(angle), s = std::sin(angle);
          EXPECT_NEAR(out[j], in[j] * c - in[j + 2] * s, 2e-4);
          EXPECT_NEAR(out[j + 2], in[j + 2] * c + in[j] * s, 2e-4);
        }
        EXPECT_EQ(out[4], in[4]);
        EXPECT_EQ(out[5], in[5]);
      }
      EXPECT_EQ(got[t * stride + stride - 1], x[t * stride + stride - 1]);  // row padding
    }
  });
}

TEST(Rope, VariantsMatchReference) {
  const int64_t tokens = 7, heads = 5, head_dim = 34, rotary_dim = 16, stride = heads * head_dim + 3;
  const int32_t positions[tokens] = {0, 1, 2, 17, 100, 4095, 70000};
  const auto x = testing::random_floats(size_t(tokens * stride), 8);
  std::vector<float> want = x;
  reference::rope(want.data(), tokens, stride, heads, head_dim, rotary_dim, 10000.0f, positions);
  testing::for_each_isa([&](Isa) {
    std::vector<float> got = x;
    rope(got.data(), tokens, stride, heads, head_dim, rotary_dim, 10000.0f, positions);
    testing::expect_close(got, want, 1e-6f, 1e-5f);
  });
}

}  // namespace
}  // namespace bamba::kernels

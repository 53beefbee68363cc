// swiglu, add_inplace, softplus_bias: formula checks, extreme inputs, variants vs reference.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

using testing::random_floats;

TEST(Swiglu, Formula) {
  const int64_t n = 131;
  const auto gate = random_floats(n, 1, -6, 6), up = random_floats(n, 2);
  testing::for_each_isa([&](Isa) {
    std::vector<float> out(n);
    swiglu(gate.data(), up.data(), n, out.data());
    for (int64_t i = 0; i < n; ++i) {
      const double g = gate[i];
      ASSERT_NEAR(out[i], g / (1 + std::exp(-g)) * up[i], 1e-6 * (1 + std::fabs(g)));
    }
    std::vector<float> in_place = gate;  // out aliases gate
    swiglu(in_place.data(), up.data(), n, in_place.data());
    testing::expect_close(in_place, out, 0, 0, "aliased");
  });
}

TEST(Swiglu, ExtremeGates) {
  const float gate[3] = {-200.0f, 200.0f, 0.0f}, up[3] = {2, 2, 2};
  testing::for_each_isa([&](Isa) {
    float out[3];
    swiglu(gate, up, 3, out);
    EXPECT_EQ(out[0], 0.0f);
    EXPECT_FLOAT_EQ(out[1], 400.0f);
    EXPECT_EQ(out[2], 0.0f);
  });
}

TEST(AddInplace, Sums) {
  const int64_t n = 77;
  const auto a = random_floats(n, 3), b = random_floats(n, 4);
  testing::for_each_isa([&](Isa) {
    std::vector<float> dst = a;
    add_inplace(dst.data(), b.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(dst[i], a[i] + b[i]);
  });
}

TEST(SoftplusBias, StableAtExtremes) {
  const float raw[2 * 3] = {0.0f, 100.0f, -100.0f, 1.0f, -1.0f, 25.0f};  // [2 tokens, stride 3]
  const float bias[2] = {0.0f, -1.0f};
  testing::for_each_isa([&](Isa) {
    float dt[2 * 2];
    softplus_bias(raw, 3, 2, 2, bias, dt);
    EXPECT_NEAR(dt[0], std::log(2.0), 1e-7);        // softplus(0)
    EXPECT_FLOAT_EQ(dt[1], 99.0f);                  // softplus(99) = 99 + e^-99
    EXPECT_NEAR(dt[2], std::log1p(std::exp(1.0)), 1e-6);
    EXPECT_NEAR(dt[3], std::log1p(std::exp(-2.0)), 1e-7);
    const float tiny_raw = -100.0f, zero_bias = 0.0f;
    float tiny;
    softplus_bias(&tiny_raw, 1, 1, 1, &zero_bias, &tiny);
    EXPECT_GT(tiny, 0.0f);  // log(1 + e^-100) = e^-100: a subnormal, not 0 from a rounded 1 + e^x
    EXPECT_NEAR(tiny, std::exp(-100.0), 3e-45);
  });
}

TEST(SoftplusBias, VariantsMatchReference) {
  const int64_t tokens = 9, heads = 13, stride = 20;
  const auto raw = random_floats(tokens * stride, 5, -30, 30);
  const auto bias = random_floats(heads, 6, -3, 3);
  std::vector<float> want(tokens * heads);
  reference::softplus_bias(raw.data(), stride, tokens, heads, bias.data(), want.data());
  testing::for_each_isa([&](Isa) {
    std::vector<float> got(want.size());
    softplus_bias(raw.data(), stride, tokens, heads, bias.data(), got.data());
    testing::expect_close(got, want, 1e-7f, 1e-6f);
  });
}

}  // namespace
}  // namespace bamba::kernels

// float8 e4m3fn: every one of the 256 codes decodes to its defined value (bias 7, subnormals,
// NaN at 0x7f/0xff, no infinities), encoding round-trips them, and rounds to nearest even.
#include <gtest/gtest.h>

#include <cmath>

#include "base/fp8.h"

namespace bamba {
namespace {

// The value of a code, from the format's definition in double.
double defined_value(int code) {
  const int sign = code >> 7, exp = (code >> 3) & 15, mant = code & 7;
  const double magnitude = exp == 0 ? mant * std::ldexp(1.0, -9) : (1 + mant / 8.0) * std::ldexp(1.0, exp - 7);
  return sign ? -magnitude : magnitude;
}

TEST(Fp8E4m3, DecodesEveryCode) {
  for (int code = 0; code < 256; ++code) {
    const float v = f8e4m3_to_f32(f8e4m3_t(code));
    if ((code & 0x7f) == 0x7f) {
      EXPECT_TRUE(std::isnan(v)) << code;
      continue;
    }
    EXPECT_EQ(double(v), defined_value(code)) << code;
    EXPECT_EQ(std::signbit(v), code >= 128) << code;
  }
  EXPECT_EQ(f8e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(f8e4m3_to_f32(0x01), 0x1p-9f);
  EXPECT_EQ(f8e4m3_to_f32(0x08), 0x1p-6f);
}

TEST(Fp8E4m3, EncodeRoundTripsAndRounds) {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f) continue;
    EXPECT_EQ(int(f32_to_f8e4m3(f8e4m3_to_f32(f8e4m3_t(code)))), code) << code;
  }
  EXPECT_EQ(f32_to_f8e4m3(1000.0f), 0x7e);                   // saturates at 448
  EXPECT_EQ(f32_to_f8e4m3(-1000.0f), 0xfe);
  EXPECT_EQ(f32_to_f8e4m3(1.0625f), 0x38);                   // tie between 1 and 1.125 → even (1)
  EXPECT_EQ(f32_to_f8e4m3(1.1875f), 0x3a);                   // tie between 1.125 and 1.25 → even (1.25)
  EXPECT_EQ(f32_to_f8e4m3(0x1p-10f), 0x00);                  // half the smallest subnormal → 0 (even)
  EXPECT_EQ(f32_to_f8e4m3(3 * 0x1p-10f), 0x02);              // 1.5 subnormal steps → 2 (even)
  EXPECT_EQ(f32_to_f8e4m3(std::nanf("")), 0x7f);
}

}  // namespace
}  // namespace bamba

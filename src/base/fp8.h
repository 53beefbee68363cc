// Scalar conversions between f32 and float8 e4m3fn (the "F8_E4M3" safetensors dtype):
// 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; 0x7f / 0xff are NaN;
// largest finite ±448; subnormals m · 2^-9.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace bamba {

using f8e4m3_t = uint8_t;  // raw bits of a float8 e4m3fn

// Exact: every e4m3fn value is an f32.
[[nodiscard]] inline float f8e4m3_to_f32(f8e4m3_t b) {
  const bool negative = b & 0x80;
  const uint32_t exp = (b >> 3) & 0x0fu, mant = b & 0x07u;
  float v;
  if (exp == 0x0f && mant == 0x07) {
    v = std::numeric_limits<float>::quiet_NaN();
  } else if (exp == 0) {
    v = float(mant) * 0x1p-9f;  // subnormal (or zero)
  } else {
    v = std::bit_cast<float>(((exp + 120u) << 23) | (mant << 20));  // rebias 7 → 127
  }
  return negative ? -v : v;
}

// Round to nearest even; values beyond ±448 saturate to ±448 (as torch's float8 casts of
// pre-clamped weights do); NaN → 0x7f.
[[nodiscard]] inline f8e4m3_t f32_to_f8e4m3(float f) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
  const float a = std::fmin(std::fabs(f), 448.0f);
  if (a < 0x1p-6f) {  // subnormal range: multiples of 2^-9
    return f8e4m3_t(sign | uint8_t(std::nearbyint(a * 0x1p9f)));  // 8 → 0x08, the smallest normal
  }
  uint32_t u = std::bit_cast<uint32_t>(a);
  u += 0x7ffffu + ((u >> 20) & 1u);  // round the 23-bit mantissa to 3 bits, ties to even
  const uint32_t exp = (u >> 23) - 120u, mant = (u >> 20) & 0x07u;
  return f8e4m3_t(sign | (exp << 3) | mant);
}

}  // namespace bamba

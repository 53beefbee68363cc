// Scalar conversions between f32 and the 16-bit float formats (bf16, IEEE f16).
// SIMD kernels convert in registers; these are the exact reference conversions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace bamba {

using bf16_t = uint16_t;  // raw bits of a bfloat16
using f16_t = uint16_t;   // raw bits of an IEEE half

// bf16 is the top half of an f32: widening is exact.
[[nodiscard]] inline float bf16_to_f32(bf16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

// Round to nearest even; NaN stays NaN (quiet).
[[nodiscard]] inline bf16_t f32_to_bf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16_t((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16_t(u >> 16);
}

[[nodiscard]] inline float f16_to_f32(f16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf / nan
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return std::bit_cast<float>(sign);  // signed zero
  // Subnormal half: value = mant * 2^-24, exact in f32.
  const float v = float(mant) * 5.9604644775390625e-8f;
  return sign ? -v : v;
}

[[nodiscard]] inline f16_t f32_to_f16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return f16_t(sign | 0x7e00u);         // nan
  if (abs >= 0x477ff000u) return f16_t(sign | 0x7c00u);        // overflow (rounds to inf) or inf
  if (abs < 0x38800000u) {                                     // subnormal or zero in half
    const float v = std::bit_cast<float>(abs) * 16777216.0f;   // scale by 2^24, round to int
    const uint32_t m = uint32_t(__builtin_nearbyintf(v));
    return f16_t(sign | m);
  }
  // Normal: rebias exponent, round mantissa to nearest even.
  uint32_t h = ((abs >> 13) - (112u << 10));
  const uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return f16_t(sign | h);
}

}  // namespace bamba

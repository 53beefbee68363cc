// Vector primitives over f32 rows (and bf16 or int8 rows widened in registers) for the AVX2
// variants; internal to each file that includes it. Same names as vec_avx512.h, so the
// shared algorithm files (*_simd.inc) compile against either. Tails run scalar.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bamba::kernels {
namespace {

// The lane-generic interface the shared algorithm files are written against:
//   V, kWidth, load(p), store(p, v), set1(f), add, sub, mul, div, fmadd(a, b, c) = a·b + c,
//   reduce_add(v), exp_approx(v) (Cephes expf, ~1 ulp), load_bf16(p) (widened),
// and the scalar widen_bf16(bits), widen_f16(bits).
using V = __m256;
constexpr int64_t kWidth = 8;

inline V load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
inline V set1(float f) { return _mm256_set1_ps(f); }
inline V add(V a, V b) { return _mm256_add_ps(a, b); }
inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V div(V a, V b) { return _mm256_div_ps(a, b); }
inline V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline float reduce_add(V v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline V load_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
inline float widen_bf16(uint16_t bits) { return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(int(uint32_t(bits) << 16)))); }
inline float widen_f16(uint16_t bits) { return _cvtsh_ss(bits); }

#include "kernels/cpu/exp_poly.inc"

// e^x: x = n·ln2 + r, |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial, times 2^n built in
// the exponent field (two factors, so that n down to -252 stays exact into subnormals).
inline V exp_approx(V x) {
  x = _mm256_min_ps(_mm256_max_ps(x, set1(-104.0f)), set1(88.7f));
  const V n = _mm256_round_ps(mul(x, set1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const V p = exp_of_remainder(x, n);
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(ni, 1);  // 2^n = 2^half · 2^(n - half)
  const auto pow2 = [](__m256i e) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23)); };
  return mul(mul(p, pow2(half)), pow2(_mm256_sub_epi32(ni, half)));
}

inline __m256 load_row(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load_row(const uint16_t* p) {  // bf16
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}
inline __m256 load_row(const int8_t* p) {  // int8 values, unscaled
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

inline float widen(float v) { return v; }
inline float widen(uint16_t v) { return widen_bf16(v); }  // bf16
inline float widen(int8_t v) { return float(v); }

// Σ a[i]·b[i]
template <class B>
float dot(const float* a, const B* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load_row(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), load_row(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load_row(b + i), acc0);
  float sum = reduce_add(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * widen(b[i]);
  return sum;
}

// y[i] += a·x[i]
template <class X>
void axpy(float* y, float a, const X* x, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, load_row(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * widen(x[i]);
}

// y[i] *= a
inline void scale(float* y, float a, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(av, _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] *= a;
}

}  // namespace
}  // namespace bamba::kernels

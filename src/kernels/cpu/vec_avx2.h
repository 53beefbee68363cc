// Vector primitives over f32 rows (and bf16 rows widened in registers) for the AVX2
// variants; internal to each file that includes it. Same names as vec_avx512.h, so the
// shared algorithm files (*_simd.inc) compile against either. Tails run scalar.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bamba::kernels {
namespace {

inline __m256 load_row(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load_row(const uint16_t* p) {  // bf16
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

inline float widen(float v) { return v; }
inline float widen(uint16_t v) {
  union {
    uint32_t u;
    float f;
  } bits{uint32_t(v) << 16};
  return bits.f;
}

inline float reduce_add(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

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

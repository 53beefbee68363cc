// Vector primitives over f32 rows (and bf16 rows widened in registers) for the AVX-512
// variants; internal to each file that includes it. Same names as vec_avx2.h, so the shared
// algorithm files (*_simd.inc) compile against either.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bamba::kernels {
namespace {

inline __mmask16 tail_mask(int64_t n) { return __mmask16((1u << n) - 1); }

inline __m512 load_row(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }
inline __m512 load_row(const uint16_t* p, __mmask16 mask) {  // bf16
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p)), 16));
}

// Σ a[i]·b[i]
template <class B>
float dot(const float* a, const B* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load_row(b + i, 0xffff), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load_row(b + i + 16, 0xffff), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xffff) : tail_mask(n - i);
    acc0 = _mm512_fmadd_ps(load_row(a + i, mask), load_row(b + i, mask), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// y[i] += a·x[i]
template <class X>
void axpy(float* y, float a, const X* x, int64_t n) {
  const __m512 av = _mm512_set1_ps(a);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xffff) : tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, mask, _mm512_fmadd_ps(av, load_row(x + i, mask), load_row(y + i, mask)));
  }
}

// y[i] *= a
inline void scale(float* y, float a, int64_t n) {
  const __m512 av = _mm512_set1_ps(a);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xffff) : tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, mask, _mm512_mul_ps(av, load_row(y + i, mask)));
  }
}

}  // namespace
}  // namespace bamba::kernels

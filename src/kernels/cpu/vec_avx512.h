// Vector primitives over f32 rows (and bf16 or int8 rows widened in registers) for the AVX-512
// variants; internal to each file that includes it. Same names as vec_avx2.h, so the shared
// algorithm files (*_simd.inc) compile against either.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace bamba::kernels {
namespace {

inline __mmask16 tail_mask(int64_t n) { return __mmask16((1u << n) - 1); }

// The lane-generic interface the shared algorithm files are written against:
//   V, kWidth, load(p), store(p, v), set1(f), add, sub, mul, div, fmadd(a, b, c) = a·b + c,
//   reduce_add(v), exp_approx(v) (Cephes expf, ~1 ulp), load_bf16(p) (widened),
// and the scalar widen_bf16(bits), widen_f16(bits).
using V = __m512;
constexpr int64_t kWidth = 16;

inline V load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
inline V set1(float f) { return _mm512_set1_ps(f); }
inline V add(V a, V b) { return _mm512_add_ps(a, b); }
inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V div(V a, V b) { return _mm512_div_ps(a, b); }
inline V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
inline V load_bf16(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
inline float widen_bf16(uint16_t bits) { return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(int(uint32_t(bits) << 16)))); }
inline float widen_f16(uint16_t bits) { return _cvtsh_ss(bits); }

#include "kernels/cpu/exp_poly.inc"

// e^x: x = n·ln2 + r, |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial, times 2^n (scalef
// gives 0 or inf past the f32 range, and subnormals in between).
inline V exp_approx(V x) {
  x = _mm512_min_ps(_mm512_max_ps(x, set1(-104.0f)), set1(89.0f));
  const V n = _mm512_roundscale_ps(mul(x, set1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm512_scalef_ps(exp_of_remainder(x, n), n);
}


inline __m512 load_row(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }
inline __m512 load_row(const uint16_t* p, __mmask16 mask) {  // bf16
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p)), 16));
}
inline __m512 load_row(const int8_t* p, __mmask16 mask) {  // int8 values, unscaled
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, p)));
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

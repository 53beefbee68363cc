// The elementwise ops for AVX2 + FMA: 8-lane vectors over elementwise_simd.inc.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx2 {
namespace {

using V = __m256;
constexpr int64_t kWidth = 8;

V load(const float* p) { return _mm256_loadu_ps(p); }
void store(float* p, V v) { _mm256_storeu_ps(p, v); }
V set1(float f) { return _mm256_set1_ps(f); }
V add(V a, V b) { return _mm256_add_ps(a, b); }
V sub(V a, V b) { return _mm256_sub_ps(a, b); }
V mul(V a, V b) { return _mm256_mul_ps(a, b); }
V div(V a, V b) { return _mm256_div_ps(a, b); }
V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
float reduce_add(V v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
V load_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
float widen_bf16(uint16_t bits) { return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(int(uint32_t(bits) << 16)))); }
float widen_f16(uint16_t bits) { return _cvtsh_ss(bits); }

// e^x: x = n·ln2 + r, |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial, times 2^n built in
// the exponent field (two factors, so that n down to -252 stays exact into subnormals).
V exp_approx(V x) {
  x = _mm256_min_ps(_mm256_max_ps(x, set1(-104.0f)), set1(88.7f));
  const V n = _mm256_round_ps(mul(x, set1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  V r = fmadd(n, set1(-0.693359375f), x);
  r = fmadd(n, set1(2.12194440e-4f), r);
  V p = set1(1.9875691500e-4f);
  p = fmadd(p, r, set1(1.3981999507e-3f));
  p = fmadd(p, r, set1(8.3334519073e-3f));
  p = fmadd(p, r, set1(4.1665795894e-2f));
  p = fmadd(p, r, set1(1.6666665459e-1f));
  p = fmadd(p, r, set1(5.0000001201e-1f));
  p = fmadd(p, mul(r, r), add(r, set1(1.0f)));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(ni, 1);  // 2^n = 2^half · 2^(n - half)
  const auto pow2 = [](__m256i e) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23)); };
  return mul(mul(p, pow2(half)), pow2(_mm256_sub_epi32(ni, half)));
}

#include "kernels/cpu/elementwise_simd.inc"

}  // namespace bamba::kernels::avx2

// The elementwise ops for AVX-512: 16-lane vectors over elementwise_simd.inc.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx512 {
namespace {

using V = __m512;
constexpr int64_t kWidth = 16;

V load(const float* p) { return _mm512_loadu_ps(p); }
void store(float* p, V v) { _mm512_storeu_ps(p, v); }
V set1(float f) { return _mm512_set1_ps(f); }
V add(V a, V b) { return _mm512_add_ps(a, b); }
V sub(V a, V b) { return _mm512_sub_ps(a, b); }
V mul(V a, V b) { return _mm512_mul_ps(a, b); }
V div(V a, V b) { return _mm512_div_ps(a, b); }
V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
V load_bf16(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
float widen_bf16(uint16_t bits) { return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(int(uint32_t(bits) << 16)))); }
float widen_f16(uint16_t bits) { return _cvtsh_ss(bits); }

// e^x: x = n·ln2 + r, |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial, times 2^n (scalef
// gives 0 or inf past the f32 range, and subnormals in between).
V exp_approx(V x) {
  x = _mm512_min_ps(_mm512_max_ps(x, set1(-104.0f)), set1(89.0f));
  const V n = _mm512_roundscale_ps(mul(x, set1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  V r = fmadd(n, set1(-0.693359375f), x);
  r = fmadd(n, set1(2.12194440e-4f), r);
  V p = set1(1.9875691500e-4f);
  p = fmadd(p, r, set1(1.3981999507e-3f));
  p = fmadd(p, r, set1(8.3334519073e-3f));
  p = fmadd(p, r, set1(4.1665795894e-2f));
  p = fmadd(p, r, set1(1.6666665459e-1f));
  p = fmadd(p, r, set1(5.0000001201e-1f));
  p = fmadd(p, mul(r, r), add(r, set1(1.0f)));
  return _mm512_scalef_ps(p, n);
}

#include "kernels/cpu/elementwise_simd.inc"

}  // namespace bamba::kernels::avx512

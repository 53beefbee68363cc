// Register-only loops of the AVX-512 dot-product instructions, for the roofline of `bamba
// bench`: independent accumulators, no memory traffic, so the rate is the core's peak.
#include <immintrin.h>

#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx512bf16 {

double peak_loop_bf16(int64_t iterations) {
  constexpr int kChains = 12;  // enough independent accumulators to cover the latency
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80), b = (__m512bh)_mm512_set1_epi32(0x3c003c00);
  for (int64_t i = 0; i < iterations; ++i) {
    #pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return double(iterations) * kChains * 16 * 2 * 2;  // 16 lanes × 2 products, multiply + add
}

double peak_loop_int8(int64_t iterations) {
  constexpr int kChains = 12;
  __m512i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_epi32(c);
  const __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x02020202);
  for (int64_t i = 0; i < iterations; ++i) {
    #pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
  }
  __m512i sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_epi32(sum, acc[c]);
  volatile int sink = _mm512_reduce_or_epi32(sum);  // or, not add: the wrapped sums must not overflow an int
  (void)sink;
  return double(iterations) * kChains * 16 * 4 * 2;  // 16 lanes × 4 products, multiply + add
}

}  // namespace bamba::kernels::avx512bf16

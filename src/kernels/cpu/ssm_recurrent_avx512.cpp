// The decode-path recurrence for AVX-512: per head and token, one pass over the [P, N]
// state that decays it, adds dt·x ⊗ B and dots the new row with C, so each state row is
// read and written once per token. Heads are split across the pool.
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx512 {

void ssm_scan_recurrent(const SsmScanArgs& a, ThreadPool& pool) {
  const int64_t P = a.head_dim, N = a.d_state, heads_per_group = a.n_heads / a.n_groups;
  parallel_ranges(pool, a.n_heads, [&](int64_t head_begin, int64_t head_end) {
    for (int64_t h = head_begin; h < head_end; ++h) {
      const int64_t g = h / heads_per_group;
      float* S = a.state + h * P * N;  // [P, N]
      for (int64_t t = 0; t < a.n_tokens; ++t) {
        const float dt = a.dt[t * a.n_heads + h];
        const __m512 decay = _mm512_set1_ps(expf(dt * a.A[h]));
        const float* x = a.x + t * a.x_stride + h * P;
        const float* B = a.B + t * a.bc_stride + g * N;
        const float* C = a.C + t * a.bc_stride + g * N;
        float* y = a.y + t * a.y_stride + h * P;
        for (int64_t p = 0; p < P; ++p) {
          const __m512 coef = _mm512_set1_ps(dt * x[p]);
          float* row = S + p * N;
          __m512 acc = _mm512_setzero_ps();
          for (int64_t n = 0; n < N; n += 16) {
            const __mmask16 mask = N - n >= 16 ? __mmask16(0xffff) : __mmask16((1u << (N - n)) - 1);
            const __m512 s = _mm512_fmadd_ps(decay, _mm512_maskz_loadu_ps(mask, row + n),
                                             _mm512_mul_ps(coef, _mm512_maskz_loadu_ps(mask, B + n)));
            _mm512_mask_storeu_ps(row + n, mask, s);
            acc = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(mask, C + n), acc);
          }
          y[p] = _mm512_reduce_add_ps(acc) + a.D[h] * x[p];
        }
      }
    }
  });
}

}  // namespace bamba::kernels::avx512

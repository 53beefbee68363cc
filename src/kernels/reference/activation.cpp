// Reference elementwise ops: SwiGLU, residual add, softplus of the biased time step.
#include "kernels/reference/reference.h"
#include "kernels/reference/scalar_math.h"

namespace bamba::kernels::reference {

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
}

void add_inplace(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

void softplus_bias(const float* dt_raw, int64_t raw_stride, int64_t n_tokens, int64_t n_heads,
                   const float* dt_bias, float* dt) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t h = 0; h < n_heads; ++h) dt[t * n_heads + h] = softplus(dt_raw[t * raw_stride + h] + dt_bias[h]);
  }
}

}  // namespace bamba::kernels::reference

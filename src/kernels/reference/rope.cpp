// Reference partial rotary embedding: rotate-half pairs inside the first rotary_dim channels
// of each head, frequencies theta^(-2j/rotary_dim) (numerics §3.1).
#include <cmath>

#include "kernels/reference/reference.h"

namespace bamba::kernels::reference {

void rope(float* x, int64_t n_tokens, int64_t x_stride, int64_t n_heads, int64_t head_dim,
          int64_t rotary_dim, float theta, const int32_t* positions) {
  const int64_t half = rotary_dim / 2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t j = 0; j < half; ++j) {
      // An f32 frequency times an f32 position, as in HF's fp32 cos/sin tables.
      const float inv_freq = float(std::pow(double(theta), -2.0 * double(j) / double(rotary_dim)));
      const float angle = float(positions[t]) * inv_freq;
      const float cos_a = std::cos(angle), sin_a = std::sin(angle);
      for (int64_t h = 0; h < n_heads; ++h) {
        float* head = x + t * x_stride + h * head_dim;
        const float u = head[j], w = head[j + half];
        head[j] = u * cos_a - w * sin_a;
        head[j + half] = w * cos_a + u * sin_a;
      }
    }
  }
}

}  // namespace bamba::kernels::reference

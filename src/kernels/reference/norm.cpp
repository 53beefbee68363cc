// Reference RMSNorm and the per-group gated RMSNorm of the Mamba2 mixer (numerics §3, §3.2).
#include <cmath>
#include <vector>

#include "kernels/reference/reference.h"
#include "kernels/reference/scalar_math.h"

namespace bamba::kernels::reference {

void rms_norm(const float* x, int64_t m, int64_t n, const float* w, float eps, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * n;
    float sum_sq = 0;
    for (int64_t c = 0; c < n; ++c) sum_sq += row[c] * row[c];
    const float inv_rms = 1.0f / std::sqrt(sum_sq / float(n) + eps);
    for (int64_t c = 0; c < n; ++c) y[i * n + c] = w[c] * (row[c] * inv_rms);
  }
}

void gated_rms_norm(const float* y, int64_t y_stride, const float* z, int64_t z_stride, int64_t m,
                    int64_t n, int64_t n_groups, const float* w, float eps, float* out,
                    int64_t out_stride) {
  const int64_t group_size = n / n_groups;
  std::vector<float> u(static_cast<size_t>(n));  // y ⊙ silu(z) of one row
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t c = 0; c < n; ++c) u[c] = y[i * y_stride + c] * silu(z[i * z_stride + c]);
    for (int64_t g = 0; g < n_groups; ++g) {
      const int64_t begin = g * group_size;
      float sum_sq = 0;
      for (int64_t c = begin; c < begin + group_size; ++c) sum_sq += u[c] * u[c];
      const float inv_rms = 1.0f / std::sqrt(sum_sq / float(group_size) + eps);
      for (int64_t c = begin; c < begin + group_size; ++c) out[i * out_stride + c] = w[c] * (u[c] * inv_rms);
    }
  }
}

}  // namespace bamba::kernels::reference

// Reference matmul and embedding lookup for quantized weights (Quant::Int8, Quant::Int4).
// F32 mode: y[i, j] = Σ_g s[j, g] · Σ_{k∈g} x[i, k] · q[j, k] in f32. BF16 mode: every
// activation row is quantized to int8 first, and
// y[i, j] = sx[i] · Σ_g s[j, g] · Σ_{k∈g} qx[i, k] · q[j, k] with exact integer group sums.
#include <vector>

#include "kernels/reference/quant_math.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels::reference {

void matmul_quantized(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                      MathMode mode, ThreadPool& pool) {
  const int64_t n_groups = w.cols / w.group_size;
  std::vector<int8_t> qx;  // [m, cols] when activations are quantized
  std::vector<float> sx;   // [m]
  if (mode == MathMode::BF16) {
    qx.resize(size_t(m * w.cols));
    sx.resize(size_t(m));
    for (int64_t i = 0; i < m; ++i) sx[size_t(i)] = quantize_activation_row(x + i * x_stride, w.cols, &qx[size_t(i * w.cols)]);
  }
  pool.parallel_for(w.rows, [&](int64_t row_begin, int64_t row_end) {
    for (int64_t j = row_begin; j < row_end; ++j) {
      for (int64_t i = 0; i < m; ++i) {
        float sum = 0;
        for (int64_t g = 0; g < n_groups; ++g) {
          const int64_t k0 = g * w.group_size;
          if (mode == MathMode::BF16) {
            int32_t dot = 0;
            for (int64_t k = k0; k < k0 + w.group_size; ++k) dot += int32_t(qx[size_t(i * w.cols + k)]) * quantized_value(w, j, k);
            sum += w.scales[j * n_groups + g] * float(dot);
          } else {
            float dot = 0;
            for (int64_t k = k0; k < k0 + w.group_size; ++k) dot += x[i * x_stride + k] * float(quantized_value(w, j, k));
            sum += w.scales[j * n_groups + g] * dot;
          }
        }
        y[i * y_stride + j] = mode == MathMode::BF16 ? sx[size_t(i)] * sum : sum;
      }
    }
  });
}

void embedding_rows_quantized(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out) {
  for (int64_t i = 0; i < n_ids; ++i) {
    for (int64_t c = 0; c < table.cols; ++c) {
      out[i * table.cols + c] = quantized_scale(table, ids[i], c) * float(quantized_value(table, ids[i], c));
    }
  }
}

}  // namespace bamba::kernels::reference

// Reference matmul and embedding lookup for quantized weights (Quant::Int8, Quant::Int4, in
// either layout). F32 mode: y[i, j] = Σ_g s[j, g] · Σ_{k∈g} x[i, k] · q[j, k] in f32.
// BF16 mode: every activation row is quantized first (int16 beside Int8 weights, int8 beside
// Int4) per block b of activation_block(w) columns, and
// y[i, j] = Σ_b sx[i, b] · s[j, g(b)] · Σ_{k∈b} qx[i, k] · q[j, k] with exact integer block sums.
#include <algorithm>
#include <vector>

#include "kernels/quant_layout.h"
#include "kernels/reference/quant_math.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels::reference {

void matmul_quantized(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                      MathMode mode, ThreadPool& pool) {
  const int64_t n_groups = w.cols / w.group_size;
  const int64_t block = activation_block(w);
  const int64_t n_blocks = (w.cols + block - 1) / block;
  std::vector<int16_t> qx;  // [m, cols] when activations are quantized
  std::vector<float> sx;   // [m, n_blocks]
  if (mode == MathMode::BF16) {
    qx.resize(size_t(m * w.cols));
    sx.resize(size_t(m * n_blocks));
    for (int64_t i = 0; i < m; ++i) {
      quantize_activation_blocks(x + i * x_stride, w.cols, block, activation_levels(w), &qx[size_t(i * w.cols)],
                                 &sx[size_t(i * n_blocks)]);
    }
  }
  pool.parallel_for(w.rows, [&](int64_t row_begin, int64_t row_end) {
    for (int64_t j = row_begin; j < row_end; ++j) {
      for (int64_t i = 0; i < m; ++i) {
        float sum = 0;
        if (mode == MathMode::BF16) {
          for (int64_t b = 0; b < n_blocks; ++b) {
            const int64_t k0 = b * block, k1 = std::min(k0 + block, w.cols);
            int32_t dot = 0;
            for (int64_t k = k0; k < k1; ++k) dot += int32_t(qx[size_t(i * w.cols + k)]) * quantized_value(w, j, k);
            sum += sx[size_t(i * n_blocks + b)] * quantized_scale(w, j, k0) * float(dot);
          }
        } else {
          for (int64_t g = 0; g < n_groups; ++g) {
            const int64_t k0 = g * w.group_size;
            float dot = 0;
            for (int64_t k = k0; k < k0 + w.group_size; ++k) dot += x[i * x_stride + k] * float(quantized_value(w, j, k));
            sum += quantized_scale(w, j, k0) * dot;
          }
        }
        y[i * y_stride + j] = sum;
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

// Reference matmul: one dot product per output, f32 accumulation, weights widened exactly.
// Output columns are split across the pool so that the scalar fallback stays usable.
#include "kernels/reference/reference.h"
#include "kernels/reference/scalar_math.h"

namespace bamba::kernels::reference {

void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
            MathMode /*mode: computing exactly is allowed in every mode*/, ThreadPool& pool) {
  pool.parallel_for(w.rows, [&](int64_t row_begin, int64_t row_end) {
    for (int64_t j = row_begin; j < row_end; ++j) {
      for (int64_t i = 0; i < m; ++i) {
        float sum = 0;
        for (int64_t k = 0; k < w.cols; ++k) sum += x[i * x_stride + k] * weight_at(w, j, k);
        y[i * y_stride + j] = sum;
      }
    }
  });
}

}  // namespace bamba::kernels::reference

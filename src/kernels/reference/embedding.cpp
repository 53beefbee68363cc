// Reference embedding lookup: copy rows of the table, widened to f32.
#include "kernels/reference/reference.h"
#include "kernels/reference/scalar_math.h"

namespace bamba::kernels::reference {

void embedding_rows(const Matrix& table, const int32_t* ids, int64_t n_ids, float* out) {
  for (int64_t i = 0; i < n_ids; ++i) {
    for (int64_t c = 0; c < table.cols; ++c) out[i * table.cols + c] = weight_at(table, ids[i], c);
  }
}

}  // namespace bamba::kernels::reference

// Scalar helpers shared by the reference ops: element reads of 16-bit/32-bit storage and
// the activation functions, each written the obvious way.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "base/dtype.h"
#include "base/half.h"
#include "kernels/ops.h"

namespace bamba::kernels::reference {

// Element i of an array of F32, F16 or BF16 values, widened exactly to f32.
inline float load_as_f32(const void* data, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::F16: return f16_to_f32(static_cast<const f16_t*>(data)[i]);
    case DType::BF16: return bf16_to_f32(static_cast<const bf16_t*>(data)[i]);
    default: return static_cast<const float*>(data)[i];
  }
}

// w[row, col] of a weight matrix.
inline float weight_at(const Matrix& w, int64_t row, int64_t col) {
  return load_as_f32(w.data, w.dtype, row * w.cols + col);
}

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

// log(1 + e^x) without overflow for large x or loss of precision for very negative x.
inline float softplus(float x) { return std::max(x, 0.0f) + std::log1p(std::exp(-std::fabs(x))); }

}  // namespace bamba::kernels::reference

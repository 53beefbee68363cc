// Scalar definitions of the quantized weight layouts of kernels::Matrix (ops.h) and of the
// per-token int8 activation quantization: the specification the SIMD variants reproduce.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/ops.h"

namespace bamba::kernels::reference {

// q[row, col] of an Int8 or Int4 matrix, in [-128, 127] or [-8, 7].
inline int32_t quantized_value(const Matrix& w, int64_t row, int64_t col) {
  const int64_t i = row * w.cols + col;
  if (w.quant == Quant::Int8) return static_cast<const int8_t*>(w.data)[i];
  const uint8_t byte = static_cast<const uint8_t*>(w.data)[i / 2];
  return int32_t(i % 2 ? byte >> 4 : byte & 0x0f) - 8;
}

// The scale of w[row, col].
inline float quantized_scale(const Matrix& w, int64_t row, int64_t col) {
  return w.scales[row * (w.cols / w.group_size) + col / w.group_size];
}

// Row x[0, n) as int8 q with x ≈ scale · q: scale = max|x| / 127, q = round-to-even(x / scale)
// computed as x · (127 / max|x|); an all-zero row has scale 0 and q = 0.
inline float quantize_activation_row(const float* x, int64_t n, int8_t* q) {
  float amax = 0;
  for (int64_t k = 0; k < n; ++k) amax = std::fmax(amax, std::fabs(x[k]));
  const float inv = amax > 0 ? 127.0f / amax : 0.0f;
  for (int64_t k = 0; k < n; ++k) q[k] = int8_t(std::nearbyint(x[k] * inv));
  return amax / 127.0f;
}

}  // namespace bamba::kernels::reference

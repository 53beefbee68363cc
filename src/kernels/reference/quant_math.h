// Scalar definition of the activation quantization (int8 per row for the KV cache; int8 or
// int16 per block of a row for matmul): the specification the SIMD variants reproduce.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/ops.h"

namespace bamba::kernels::reference {

// Row x[0, n) as integers q in [-levels, levels] with x ≈ scale · q: scale = max|x| / levels,
// q = round-to-even(x · (levels / max|x|)); an all-zero row has scale 0 and q = 0.
template <class Int>
inline float quantize_symmetric(const float* x, int64_t n, int32_t levels, Int* q) {
  float amax = 0;
  for (int64_t k = 0; k < n; ++k) amax = std::fmax(amax, std::fabs(x[k]));
  const float inv = amax > 0 ? float(levels) / amax : 0.0f;
  for (int64_t k = 0; k < n; ++k) q[k] = Int(std::nearbyint(x[k] * inv));
  return amax / float(levels);
}

// Row x[0, n) as int8 (levels 127).
inline float quantize_activation_row(const float* x, int64_t n, int8_t* q) { return quantize_symmetric(x, n, 127, q); }

// Row x[0, n) quantized per block of `block` columns (the last may be shorter) to
// [-levels, levels]: q[0, n) and scales[ceil(n / block)].
inline void quantize_activation_blocks(const float* x, int64_t n, int64_t block, int32_t levels, int16_t* q,
                                       float* scales) {
  for (int64_t k = 0; k < n; k += block) {
    scales[k / block] = quantize_symmetric(x + k, std::min(block, n - k), levels, q + k);
  }
}

}  // namespace bamba::kernels::reference

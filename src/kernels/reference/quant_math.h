// Scalar definition of the int8 activation quantization (per row, and per block of a row for
// matmul): the specification the SIMD variants reproduce.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <cstdint>

#include "kernels/ops.h"

namespace bamba::kernels::reference {

// Row x[0, n) as int8 q with x ≈ scale · q: scale = max|x| / 127, q = round-to-even(x / scale)
// computed as x · (127 / max|x|); an all-zero row has scale 0 and q = 0.
inline float quantize_activation_row(const float* x, int64_t n, int8_t* q) {
  float amax = 0;
  for (int64_t k = 0; k < n; ++k) amax = std::fmax(amax, std::fabs(x[k]));
  const float inv = amax > 0 ? 127.0f / amax : 0.0f;
  for (int64_t k = 0; k < n; ++k) q[k] = int8_t(std::nearbyint(x[k] * inv));
  return amax / 127.0f;
}

// The activation block of a matmul over w: kActivationBlock columns, or fewer when w's groups
// are not a multiple of it (so that a block never straddles two weight scales).
inline int64_t activation_block(const Matrix& w) {
  return w.group_size == w.cols ? kActivationBlock : std::gcd(w.group_size, kActivationBlock);
}

// Row x[0, n) quantized per block of `block` columns (the last may be shorter): q[0, n) and
// scales[ceil(n / block)].
inline void quantize_activation_blocks(const float* x, int64_t n, int64_t block, int8_t* q, float* scales) {
  for (int64_t k = 0; k < n; k += block) scales[k / block] = quantize_activation_row(x + k, std::min(block, n - k), q + k);
}

}  // namespace bamba::kernels::reference

// Reference causal depthwise conv1d + bias + SiLU over the window of previous raw inputs
// (numerics §3.2: cross-correlation, tap d_conv-1 multiplies the current token).
#include <vector>

#include "kernels/reference/reference.h"
#include "kernels/reference/scalar_math.h"

namespace bamba::kernels::reference {

void causal_conv1d_silu(const float* in, int64_t in_stride, int64_t n_tokens, int64_t channels,
                        float* window, const float* w, const float* bias, int64_t d_conv,
                        float* out, int64_t out_stride) {
  const int64_t history = d_conv - 1;
  // The input stream with the window in front: row r is input position r - history.
  std::vector<float> padded(size_t((history + n_tokens) * channels));
  for (int64_t r = 0; r < history; ++r) {
    for (int64_t c = 0; c < channels; ++c) padded[r * channels + c] = window[r * channels + c];
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t c = 0; c < channels; ++c) padded[(history + t) * channels + c] = in[t * in_stride + c];
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t c = 0; c < channels; ++c) {
      float sum = bias ? bias[c] : 0.0f;
      for (int64_t k = 0; k < d_conv; ++k) sum += w[c * d_conv + k] * padded[(t + k) * channels + c];
      out[t * out_stride + c] = silu(sum);
    }
  }
  // The new window: the last `history` rows of the stream.
  for (int64_t r = 0; r < history; ++r) {
    for (int64_t c = 0; c < channels; ++c) window[r * channels + c] = padded[(n_tokens + r) * channels + c];
  }
}

}  // namespace bamba::kernels::reference

// What every block of one forward call shares: the batch, the state it advances, the
// absolute position of each token, the math mode and the thread pool; plus the scratch
// helper that lets blocks reuse their buffers across calls.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "model/batch.h"
#include "model/config.h"
#include "state/state_cache.h"

namespace bamba {

struct ForwardContext {
  const ModelConfig& config;
  const Batch& batch;
  StateCache& cache;
  const int32_t* positions;  // [n_tokens] absolute position of each token
  int64_t n_tokens;          // T, all sequences
  kernels::MathMode math;
  ThreadPool& pool;
};

// `buffer` grown to at least n elements (never shrunk): scratch is allocated once per size.
template <class T>
T* scratch(std::vector<T>& buffer, int64_t n) {
  if (int64_t(buffer.size()) < n) buffer.resize(size_t(n));
  return buffer.data();
}

// y[i, :] += bias for m rows of width n, row stride `stride` (Linear biases).
inline void add_bias_rows(float* y, int64_t m, int64_t n, int64_t stride, const std::vector<float>& bias) {
  for (int64_t i = 0; i < m; ++i) kernels::add_inplace(y + i * stride, bias.data(), n);
}

}  // namespace bamba

// What every block of one forward call shares: the batch, the state it advances, the
// absolute position of each token, the math mode, the thread pool and an optional observer of
// Linear inputs; plus the scratch helper that lets blocks reuse their buffers across calls.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "model/batch.h"
#include "model/config.h"
#include "model/linear_observer.h"
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
  LinearInputObserver* observer = nullptr;  // sees every Linear's input when set
};

// y = x w^T over the batch's T tokens (x: [T, w.cols], y: [T, w.rows]), shown to the observer first.
inline void linear(const ForwardContext& ctx, const float* x, const kernels::Matrix& w, float* y) {
  if (ctx.observer) ctx.observer->observe(w, x, ctx.n_tokens, w.cols);
  kernels::matmul(x, ctx.n_tokens, w.cols, w, y, w.rows, ctx.math, ctx.pool);
}

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

// Reference selective state-space scan (numerics §3.2): the per-token recurrence, and the
// chunked SSD form of the same scan. Heads are independent and split across the pool.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/reference/reference.h"

namespace bamba::kernels::reference {
namespace {

struct HeadView {
  int64_t h, g;  // head and the B/C group it reads (block mapping)
};

HeadView head_view(const SsmScanArgs& a, int64_t h) { return {h, h / (a.n_heads / a.n_groups)}; }

const float* x_at(const SsmScanArgs& a, int64_t t, int64_t h) { return a.x + t * a.x_stride + h * a.head_dim; }
const float* b_at(const SsmScanArgs& a, int64_t t, int64_t g) { return a.B + t * a.bc_stride + g * a.d_state; }
const float* c_at(const SsmScanArgs& a, int64_t t, int64_t g) { return a.C + t * a.bc_stride + g * a.d_state; }
float* y_at(const SsmScanArgs& a, int64_t t, int64_t h) { return a.y + t * a.y_stride + h * a.head_dim; }
float* state_of(const SsmScanArgs& a, int64_t h) { return a.state + h * a.head_dim * a.d_state; }

float dot(const float* a, const float* b, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void recurrent_head(const SsmScanArgs& a, HeadView hv) {
  const int64_t P = a.head_dim, N = a.d_state;
  float* S = state_of(a, hv.h);  // [P, N]
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    const float dt = a.dt[t * a.n_heads + hv.h];
    const float decay = std::exp(dt * a.A[hv.h]);
    const float* x = x_at(a, t, hv.h);
    const float* B = b_at(a, t, hv.g);
    const float* C = c_at(a, t, hv.g);
    float* y = y_at(a, t, hv.h);
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t n = 0; n < N; ++n) S[p * N + n] = decay * S[p * N + n] + dt * x[p] * B[n];
      y[p] = dot(S + p * N, C, N) + a.D[hv.h] * x[p];
    }
  }
}

// One chunk [t0, t0 + len) of one head; S holds the state at the chunk start and is updated
// to the state at its end.
void chunk_head(const SsmScanArgs& a, HeadView hv, int64_t t0, int64_t len, float* cum) {
  const int64_t P = a.head_dim, N = a.d_state;
  float* S = state_of(a, hv.h);  // [P, N]
  const float A = a.A[hv.h];
  // cum[t] = Σ_{r≤t} dt_r·A: inclusive cumulative log-decay from the chunk start.
  float running = 0;
  for (int64_t t = 0; t < len; ++t) {
    running += a.dt[(t0 + t) * a.n_heads + hv.h] * A;
    cum[t] = running;
  }
  // y_t = Σ_{s≤t} exp(cum_t − cum_s)(C_t·B_s) dt_s x_s + exp(cum_t) C_t·S_in + D x_t.
  // Only s ≤ t is visited: the masked (s > t) terms, whose exponent is positive, never exist.
  for (int64_t t = 0; t < len; ++t) {
    const float* C = c_at(a, t0 + t, hv.g);
    const float* x_t = x_at(a, t0 + t, hv.h);
    float* y = y_at(a, t0 + t, hv.h);
    const float state_decay = std::exp(cum[t]);
    for (int64_t p = 0; p < P; ++p) y[p] = state_decay * dot(S + p * N, C, N) + a.D[hv.h] * x_t[p];
    for (int64_t s = 0; s <= t; ++s) {
      const float dt_s = a.dt[(t0 + s) * a.n_heads + hv.h];
      const float weight = std::exp(cum[t] - cum[s]) * dot(C, b_at(a, t0 + s, hv.g), N) * dt_s;
      const float* x_s = x_at(a, t0 + s, hv.h);
      for (int64_t p = 0; p < P; ++p) y[p] += weight * x_s[p];
    }
  }
  // S_out = exp(cum_last) S_in + Σ_s exp(cum_last − cum_s) dt_s x_s ⊗ B_s.
  const float last = cum[len - 1];
  for (int64_t i = 0; i < P * N; ++i) S[i] *= std::exp(last);
  for (int64_t s = 0; s < len; ++s) {
    const float coef = std::exp(last - cum[s]) * a.dt[(t0 + s) * a.n_heads + hv.h];
    const float* x_s = x_at(a, t0 + s, hv.h);
    const float* B = b_at(a, t0 + s, hv.g);
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t n = 0; n < N; ++n) S[p * N + n] += coef * x_s[p] * B[n];
    }
  }
}

}  // namespace

void ssm_scan_recurrent(const SsmScanArgs& args, ThreadPool& pool) {
  pool.parallel_for(args.n_heads, [&](int64_t begin, int64_t end) {
    for (int64_t h = begin; h < end; ++h) recurrent_head(args, head_view(args, h));
  });
}

void ssd_chunk_scan(const SsmScanArgs& args, int64_t chunk_len, ThreadPool& pool) {
  pool.parallel_for(args.n_heads, [&](int64_t begin, int64_t end) {
    std::vector<float> cum(static_cast<size_t>(chunk_len));
    for (int64_t h = begin; h < end; ++h) {
      for (int64_t t0 = 0; t0 < args.n_tokens; t0 += chunk_len) {
        const int64_t len = std::min(chunk_len, args.n_tokens - t0);
        chunk_head(args, head_view(args, h), t0, len, cum.data());
      }
    }
  });
}

}  // namespace bamba::kernels::reference

// GPTQ (gptq.h). Blocks of kGptqBlock columns: the small diagonal blocks are factored and
// inverted in double, everything between blocks is an f32 matmul.
//
// U comes from one Cholesky factorization and one triangular inverse: with P the reversal of
// the column order and P Hπ P = L Lᵀ, U = P L⁻¹ P is upper triangular and UᵀU = Hπ⁻¹.
#include "model/gptq.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/error.h"
#include "kernels/ops.h"

namespace bamba {

namespace {

using kernels::MathMode;

kernels::Matrix f32_matrix(const float* data, int64_t rows, int64_t cols) { return {data, DType::F32, rows, cols}; }

// y = x wᵀ (f32) in slices of x's rows small enough (512 KiB) to stay in cache: the
// matmul meets all of x once per tile of weight rows, so a large x would otherwise come from
// memory every time (measured: an 8192-column factor 12.6 s whole, 7.3 s in slices of 512
// KiB, 8.1 s in slices of 2 MiB).
void sliced_matmul(const float* x, int64_t m, int64_t x_stride, const kernels::Matrix& w, float* y, int64_t y_stride,
                   ThreadPool& pool) {
  constexpr int64_t kSliceBytes = int64_t(1) << 19;
  const int64_t slice = std::max<int64_t>(16, kSliceBytes / (int64_t(sizeof(float)) * std::max<int64_t>(w.cols, 1)));
  for (int64_t i = 0; i < m; i += slice) {
    kernels::matmul(x + i * x_stride, std::min(slice, m - i), x_stride, w, y + i * y_stride, y_stride, MathMode::F32,
                    pool);
  }
}

// The lower Cholesky factor of the b×b block s (row stride b, lower triangle read), in double.
std::vector<double> small_cholesky(const float* s, int64_t b, int64_t first_column) {
  std::vector<double> l(size_t(b * b), 0.0);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double sum = s[i * b + j];
      for (int64_t t = 0; t < j; ++t) sum -= l[size_t(i * b + t)] * l[size_t(j * b + t)];
      if (j < i) {
        l[size_t(i * b + j)] = sum / l[size_t(j * b + j)];
      } else {
        if (!(sum > 0)) fail("gptq: the calibration Hessian is not positive definite at column ", first_column + i);
        l[size_t(i * b + i)] = std::sqrt(sum);
      }
    }
  }
  return l;
}

// In place: the lower Cholesky factor L of r ([n, n], lower triangle read), r = L Lᵀ.
// Left-looking by blocks: block column k is R[:, k] - L[:, <k] L[k, <k]ᵀ (one matmul), then
// its diagonal block is factored and the rows below solved against it.
void cholesky_lower(std::vector<float>& r, int64_t n, ThreadPool& pool) {
  std::vector<float> packed, s;
  for (int64_t k0 = 0; k0 < n; k0 += kGptqBlock) {
    const int64_t k1 = std::min(n, k0 + kGptqBlock), b = k1 - k0, m = n - k0;
    s.assign(size_t(m * b), 0.0f);  // [m, b]
    if (k0 > 0) {
      packed.resize(size_t(b * k0));  // L[k0:k1, 0:k0]
      for (int64_t j = 0; j < b; ++j) std::copy_n(r.data() + (k0 + j) * n, k0, packed.data() + j * k0);
      sliced_matmul(r.data() + k0 * n, m, n, f32_matrix(packed.data(), b, k0), s.data(), b, pool);
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < b; ++j) s[size_t(i * b + j)] = r[size_t((k0 + i) * n + k0 + j)] - s[size_t(i * b + j)];
    }
    const std::vector<double> d = small_cholesky(s.data(), b, k0);
    pool.parallel_for(m, [&](int64_t begin, int64_t end) {
      double x[kGptqBlock];
      for (int64_t i = begin; i < end; ++i) {
        float* out = r.data() + (k0 + i) * n + k0;
        if (i < b) {
          for (int64_t j = 0; j <= i; ++j) out[j] = float(d[size_t(i * b + j)]);
          continue;
        }
        // L[i, k0:k1] solves x Dᵀ = S[i, :] (forward substitution).
        const float* si = s.data() + i * b;
        for (int64_t j = 0; j < b; ++j) {
          double sum = si[j];
          for (int64_t t = 0; t < j; ++t) sum -= x[t] * d[size_t(j * b + t)];
          x[j] = sum / d[size_t(j * b + j)];
          out[j] = float(x[j]);
        }
      }
    });
  }
  for (int64_t i = 0; i < n; ++i) std::fill(r.data() + i * n + i + 1, r.data() + (i + 1) * n, 0.0f);
}

// The inverse of the lower triangular b×b block of l at (k0, k0) (row stride n), in double.
std::vector<double> small_lower_inverse(const std::vector<float>& l, int64_t n, int64_t k0, int64_t b) {
  const auto at = [&](int64_t i, int64_t j) { return double(l[size_t((k0 + i) * n + k0 + j)]); };
  std::vector<double> inv(size_t(b * b), 0.0);
  for (int64_t j = 0; j < b; ++j) {
    inv[size_t(j * b + j)] = 1.0 / at(j, j);
    for (int64_t i = j + 1; i < b; ++i) {
      double sum = 0;
      for (int64_t t = j; t < i; ++t) sum += at(i, t) * inv[size_t(t * b + j)];
      inv[size_t(i * b + j)] = -sum / at(i, i);
    }
  }
  return inv;
}

// Yᵀ for Y = L⁻¹ (l lower, [n, n]), by block rows of Y:
//   Y[i, <i] = -L_ii⁻¹ L[i, <i] Y[<i, <i],   Y[i, i] = L_ii⁻¹.
// Kept transposed so that Y[<i, <i] is a matmul's row-major activations.
std::vector<float> inverse_transposed(const std::vector<float>& l, int64_t n, ThreadPool& pool) {
  std::vector<float> yt(size_t(n * n), 0.0f);
  std::vector<float> packed, prod;
  for (int64_t i0 = 0; i0 < n; i0 += kGptqBlock) {
    const int64_t i1 = std::min(n, i0 + kGptqBlock), b = i1 - i0;
    const std::vector<double> dinv = small_lower_inverse(l, n, i0, b);
    if (i0 > 0) {
      packed.resize(size_t(b * i0));  // L[i0:i1, 0:i0]
      for (int64_t t = 0; t < b; ++t) std::copy_n(l.data() + (i0 + t) * n, i0, packed.data() + t * i0);
      prod.resize(size_t(i0 * b));  // prod[c, t] = (L[i, <i] Y[<i, <i])[t, c]
      sliced_matmul(yt.data(), i0, n, f32_matrix(packed.data(), b, i0), prod.data(), b, pool);
      pool.parallel_for(i0, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          const float* pc = prod.data() + c * b;
          for (int64_t u = 0; u < b; ++u) {
            double sum = 0;
            for (int64_t t = 0; t <= u; ++t) sum += dinv[size_t(u * b + t)] * pc[t];
            yt[size_t(c * n + i0 + u)] = float(-sum);
          }
        }
      });
    }
    for (int64_t c = 0; c < b; ++c) {
      for (int64_t u = c; u < b; ++u) yt[size_t((i0 + c) * n + i0 + u)] = float(dinv[size_t(u * b + c)]);
    }
  }
  return yt;
}

}  // namespace

GptqFactor gptq_factor(const bf16_t* x, int64_t rows, int64_t cols, ThreadPool& pool) {
  const int64_t n = cols;
  GptqFactor f;
  f.cols = n;
  if (n == 0) return f;
  // H = XᵀX  [n, n], one matmul of Xᵀ by itself. X holds bf16 values, so the bf16 path
  // (bf16 products, f32 sums) computes it as exactly as f32 and several times faster.
  std::vector<float> h(size_t(n * n), 0.0f);
  {
    std::vector<float> xt(size_t(n * rows));    // [n, rows]
    std::vector<bf16_t> xt16(size_t(n * rows));  // the same, as the matmul's weight
    for (int64_t t = 0; t < rows; ++t) {
      for (int64_t i = 0; i < n; ++i) {
        xt16[size_t(i * rows + t)] = x[t * cols + i];
        xt[size_t(i * rows + t)] = bf16_to_f32(x[t * cols + i]);
      }
    }
    const kernels::Matrix weight{xt16.data(), DType::BF16, n, rows};
    if (rows > 0) kernels::matmul(xt.data(), n, rows, weight, h.data(), n, MathMode::BF16, pool);
  }
  double mean_diag = 0;
  for (int64_t i = 0; i < n; ++i) mean_diag += h[size_t(i * n + i)];
  mean_diag /= double(n);
  const double damp = kGptqDampening * (mean_diag > 0 ? mean_diag : 1.0);
  f.order.resize(size_t(n));
  std::iota(f.order.begin(), f.order.end(), 0);
  std::stable_sort(f.order.begin(), f.order.end(),
                   [&](int32_t a, int32_t b) { return h[size_t(a * n + a)] > h[size_t(b * n + b)]; });

  // r = P Hπ P (+ dampening; a dead column's diagonal 1), lower triangle.
  std::vector<float> r(size_t(n * n), 0.0f);
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t a = begin; a < end; ++a) {
      const int64_t i = f.order[size_t(n - 1 - a)];
      for (int64_t b = 0; b < a; ++b) r[size_t(a * n + b)] = h[size_t(i * n + f.order[size_t(n - 1 - b)])];
      const float diag = h[size_t(i * n + i)];
      r[size_t(a * n + a)] = float((diag > 0 ? double(diag) : 1.0) + damp);
    }
  });
  h = {};
  cholesky_lower(r, n, pool);
  const std::vector<float> yt = inverse_transposed(r, n, pool);
  r = {};

  // U[a, b] = Y[n-1-a, n-1-b] = Yᵀ[n-1-b, n-1-a], cut into the rounding's blocks.
  const auto u = [&](int64_t a, int64_t b) { return yt[size_t((n - 1 - b) * n + (n - 1 - a))]; };
  for (int64_t a0 = 0; a0 < n; a0 += kGptqBlock) {
    const int64_t a1 = std::min(n, a0 + kGptqBlock), bs = a1 - a0;
    std::vector<float>& diag = f.diag.emplace_back(size_t(bs * bs), 0.0f);
    for (int64_t a = a0; a < a1; ++a) {
      for (int64_t b = a; b < a1; ++b) diag[size_t((a - a0) * bs + (b - a0))] = u(a, b);
    }
    std::vector<float>& panel = f.panel.emplace_back(size_t((n - a1) * bs));
    pool.parallel_for(n - a1, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; ++j) {
        for (int64_t a = a0; a < a1; ++a) panel[size_t(j * bs + (a - a0))] = u(a, a1 + j);
      }
    });
  }
  return f;
}

void gptq_round_rows(const GptqFactor& f, const float* w, int64_t rows, const float* scales, int64_t group, int lo, int hi,
                     int8_t* q, ThreadPool& pool) {
  const int64_t n = f.cols, groups = n / group;
  std::vector<float> wp(size_t(rows * n));  // [rows, n] the rows in rounding order, updated as columns round
  pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t a = 0; a < n; ++a) wp[size_t(r * n + a)] = w[r * n + f.order[size_t(a)]];
    }
  });
  std::vector<float> err, update;
  for (size_t k = 0; k < f.diag.size(); ++k) {
    const int64_t a0 = int64_t(k) * kGptqBlock, a1 = std::min(n, a0 + kGptqBlock), bs = a1 - a0;
    const float* diag = f.diag[k].data();
    err.resize(size_t(rows * bs));  // [rows, bs] e of each column of the block
    pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float* wr = wp.data() + r * n;
        for (int64_t a = a0; a < a1; ++a) {
          const int32_t c = f.order[size_t(a)];
          const float scale = scales[r * groups + c / group];
          const float v = scale != 0 ? std::clamp(std::nearbyint(wr[a] / scale), float(lo), float(hi)) : 0.0f;
          q[r * n + c] = int8_t(v);
          const float* ua = diag + (a - a0) * bs;
          const float e = (wr[a] - v * scale) / ua[a - a0];
          err[size_t(r * bs + (a - a0))] = e;
          for (int64_t b = a + 1; b < a1; ++b) wr[b] -= e * ua[b - a0];
        }
      }
    });
    if (a1 == n) break;
    // The block's errors reach every later column at once: W[:, a1:] -= E U[a0:a1, a1:].
    update.resize(size_t(rows * (n - a1)));
    kernels::matmul(err.data(), rows, bs, f32_matrix(f.panel[k].data(), n - a1, bs), update.data(), n - a1,
                    MathMode::F32, pool);
    pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float* wr = wp.data() + r * n + a1;
        const float* ur = update.data() + r * (n - a1);
        for (int64_t j = 0; j < n - a1; ++j) wr[j] -= ur[j];
      }
    });
  }
}

}  // namespace bamba

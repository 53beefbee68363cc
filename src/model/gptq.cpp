// GPTQ (gptq.h). The factor is computed in double: H can be near singular when the
// calibration has fewer distinct tokens than columns, and the dampening alone keeps it
// positive definite.
#include "model/gptq.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/error.h"

namespace bamba {

namespace {

// In place: the lower Cholesky factor L of the symmetric positive definite a ([n, n], lower
// triangle read), a = L Lᵀ. Rows of L are independent given the rows above, so the inner
// dot products run over contiguous memory.
void cholesky_lower(std::vector<double>& a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double* ri = a.data() + i * n;
    for (int64_t j = 0; j <= i; ++j) {
      const double* rj = a.data() + j * n;
      double s = ri[j];
      for (int64_t k = 0; k < j; ++k) s -= ri[k] * rj[k];
      if (j < i) {
        ri[j] = s / rj[j];
      } else {
        if (!(s > 0)) fail("gptq: the calibration Hessian is not positive definite at column ", i);
        ri[i] = std::sqrt(s);
      }
    }
    std::fill(ri + i + 1, ri + n, 0.0);
  }
}

// In place: the inverse of the lower triangular l ([n, n]).
void invert_lower(std::vector<double>& l, int64_t n, ThreadPool& pool) {
  std::vector<double> inv(size_t(n * n), 0.0);
  // Column j of L⁻¹ solves L x = e_j by forward substitution; columns are independent.
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    std::vector<double> x(static_cast<size_t>(n));
    for (int64_t j = begin; j < end; ++j) {
      x[size_t(j)] = 1.0 / l[size_t(j * n + j)];
      for (int64_t i = j + 1; i < n; ++i) {
        const double* ri = l.data() + i * n;
        double s = 0;
        for (int64_t k = j; k < i; ++k) s -= ri[k] * x[size_t(k)];
        x[size_t(i)] = s / ri[i];
      }
      for (int64_t i = j; i < n; ++i) inv[size_t(i * n + j)] = x[size_t(i)];
    }
  });
  l.swap(inv);
}

}  // namespace

GptqFactor gptq_factor(const bf16_t* x, int64_t rows, int64_t cols, ThreadPool& pool) {
  const int64_t n = cols;
  // H = XᵀX  [n, n], lower triangle, from the columns of X made contiguous.
  std::vector<double> xt(size_t(n * rows));  // [n, rows]
  for (int64_t t = 0; t < rows; ++t) {
    for (int64_t i = 0; i < n; ++i) xt[size_t(i * rows + t)] = bf16_to_f32(x[t * cols + i]);
  }
  std::vector<double> h(size_t(n * n), 0.0);
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double* xi = xt.data() + i * rows;
      for (int64_t j = 0; j <= i; ++j) {
        const double* xj = xt.data() + j * rows;
        double s = 0;
        for (int64_t t = 0; t < rows; ++t) s += xi[t] * xj[t];
        h[size_t(i * n + j)] = s;
      }
    }
  });
  xt = {};
  GptqFactor f;
  f.cols = n;
  double mean_diag = 0;
  for (int64_t i = 0; i < n; ++i) mean_diag += h[size_t(i * n + i)];
  mean_diag = n > 0 ? mean_diag / double(n) : 0;
  f.order.resize(size_t(n));
  std::iota(f.order.begin(), f.order.end(), 0);
  std::stable_sort(f.order.begin(), f.order.end(),
                   [&](int32_t a, int32_t b) { return h[size_t(a * n + a)] > h[size_t(b * n + b)]; });

  // The reversal trick: with P the order reversal and P H P = L' L'ᵀ, U = P L'⁻¹ P is upper
  // triangular and UᵀU = H⁻¹ — one Cholesky and one triangular inverse.
  std::vector<double> r(size_t(n * n));  // r = P Hπ P, Hπ = H in act order (+ dampening)
  const auto entry = [&](int64_t a, int64_t b) {  // Hπ[a, b]
    const int64_t i = f.order[size_t(a)], j = f.order[size_t(b)];
    double v = i >= j ? h[size_t(i * n + j)] : h[size_t(j * n + i)];
    if (a == b) v = (v > 0 ? v : 1.0) + kGptqDampening * (mean_diag > 0 ? mean_diag : 1.0);
    return v;
  };
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t b = 0; b <= a; ++b) r[size_t(a * n + b)] = entry(n - 1 - a, n - 1 - b);
  }
  h = {};
  cholesky_lower(r, n);
  invert_lower(r, n, pool);
  f.u.assign(size_t(n * n), 0.0);
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t b = a; b < n; ++b) f.u[size_t(a * n + b)] = r[size_t((n - 1 - a) * n + (n - 1 - b))];
  }
  return f;
}

void gptq_round_row(const GptqFactor& f, float* row, const float* scales, int64_t group, int lo, int hi,
                    int8_t* q) {
  const int64_t n = f.cols;
  std::vector<double> w(static_cast<size_t>(n));  // the row in rounding order, updated as columns round
  for (int64_t a = 0; a < n; ++a) w[size_t(a)] = row[f.order[size_t(a)]];
  for (int64_t a = 0; a < n; ++a) {
    const int32_t c = f.order[size_t(a)];
    const double scale = scales[c / group];
    const double v = scale != 0 ? std::clamp(std::nearbyint(w[size_t(a)] / scale), double(lo), double(hi)) : 0.0;
    q[c] = int8_t(v);
    const double* ua = f.u.data() + a * n;
    const double e = (w[size_t(a)] - v * scale) / ua[a];
    for (int64_t b = a + 1; b < n; ++b) w[size_t(b)] -= e * ua[b];
  }
}

}  // namespace bamba

// GPTQ rounding (model/gptq.h) against a plain unblocked double-precision reference of the
// same algorithm, and against round-to-nearest: on random weights and correlated random
// inputs its output error, on the inputs it was calibrated with and on fresh ones drawn the
// same way, must be smaller; the integers stay in range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "model/gptq.h"

namespace bamba::testing {
namespace {

// The reference: H in double, H⁻¹ by Cholesky and triangular solves, U = chol(H⁻¹) upper,
// then one column at a time over the whole row.
struct ReferenceFactor {
  int64_t n;
  std::vector<int32_t> order;
  std::vector<double> u;  // [n, n]
};

ReferenceFactor reference_factor(const std::vector<float>& x, int64_t rows, int64_t n) {
  std::vector<double> h(size_t(n * n), 0.0);
  for (int64_t t = 0; t < rows; ++t) {
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        h[size_t(i * n + j)] += double(bf16_to_f32(f32_to_bf16(x[size_t(t * n + i)]))) *
                                double(bf16_to_f32(f32_to_bf16(x[size_t(t * n + j)])));
      }
    }
  }
  ReferenceFactor f{n, std::vector<int32_t>(static_cast<size_t>(n)), {}};
  std::iota(f.order.begin(), f.order.end(), 0);
  std::stable_sort(f.order.begin(), f.order.end(), [&](int32_t a, int32_t b) { return h[size_t(a * n + a)] > h[size_t(b * n + b)]; });
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += h[size_t(i * n + i)] / double(n);
  std::vector<double> a(size_t(n * n));  // Hπ + dampening
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) a[size_t(i * n + j)] = h[size_t(f.order[size_t(i)] * n + f.order[size_t(j)])];
    a[size_t(i * n + i)] += kGptqDampening * mean;
  }
  const auto cholesky = [n](std::vector<double> m) {  // lower L, m = L Lᵀ
    std::vector<double> l(size_t(n * n), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j <= i; ++j) {
        double s = m[size_t(i * n + j)];
        for (int64_t k = 0; k < j; ++k) s -= l[size_t(i * n + k)] * l[size_t(j * n + k)];
        l[size_t(i * n + j)] = i == j ? std::sqrt(s) : s / l[size_t(j * n + j)];
      }
    }
    return l;
  };
  const std::vector<double> l = cholesky(a);
  std::vector<double> inv(size_t(n * n), 0.0);  // H⁻¹ column by column: L Lᵀ x = e_j
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double> y(static_cast<size_t>(n), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      double s = i == j ? 1.0 : 0.0;
      for (int64_t k = 0; k < i; ++k) s -= l[size_t(i * n + k)] * y[size_t(k)];
      y[size_t(i)] = s / l[size_t(i * n + i)];
    }
    for (int64_t i = n - 1; i >= 0; --i) {
      double s = y[size_t(i)];
      for (int64_t k = i + 1; k < n; ++k) s -= l[size_t(k * n + i)] * inv[size_t(k * n + j)];
      inv[size_t(i * n + j)] = s / l[size_t(i * n + i)];
    }
  }
  const std::vector<double> li = cholesky(inv);  // H⁻¹ = Lᵢ Lᵢᵀ, U = Lᵢᵀ
  f.u.assign(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i; j < n; ++j) f.u[size_t(i * n + j)] = li[size_t(j * n + i)];
  }
  return f;
}

void reference_round_row(const ReferenceFactor& f, const float* row, float scale, int lo, int hi, int8_t* q) {
  const int64_t n = f.n;
  std::vector<double> w(static_cast<size_t>(n));
  for (int64_t a = 0; a < n; ++a) w[size_t(a)] = row[f.order[size_t(a)]];
  for (int64_t a = 0; a < n; ++a) {
    const double v = std::clamp(std::nearbyint(w[size_t(a)] / scale), double(lo), double(hi));
    q[f.order[size_t(a)]] = int8_t(v);
    const double e = (w[size_t(a)] - v * scale) / f.u[size_t(a * n + a)];
    for (int64_t b = a + 1; b < n; ++b) w[size_t(b)] -= e * f.u[size_t(a * n + b)];
  }
}

struct Inputs {
  int64_t rows, cols;
  std::vector<float> x;  // [rows, cols]
};

// Inputs with correlated columns and uneven scales, like a layer's activations: x = z M.
Inputs correlated_inputs(int64_t rows, int64_t cols, uint32_t seed, const std::vector<float>& mix) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Inputs in{rows, cols, std::vector<float>(size_t(rows * cols), 0.0f)};
  std::vector<float> z(static_cast<size_t>(cols));
  for (int64_t t = 0; t < rows; ++t) {
    for (float& v : z) v = normal(rng);
    for (int64_t j = 0; j < cols; ++j) {
      float s = 0;
      for (int64_t k = 0; k < cols; ++k) s += z[size_t(k)] * mix[size_t(k * cols + j)];
      in.x[size_t(t * cols + j)] = s;
    }
  }
  return in;
}

// Σ over rows and outputs of (x (w - s q)ᵀ)², per-row scale s.
double output_error(const Inputs& in, const std::vector<float>& w, const std::vector<int8_t>& q,
                    const std::vector<float>& scale, int64_t out) {
  double err = 0;
  for (int64_t t = 0; t < in.rows; ++t) {
    for (int64_t o = 0; o < out; ++o) {
      double d = 0;
      for (int64_t j = 0; j < in.cols; ++j) {
        const size_t k = size_t(o * in.cols + j);
        d += double(in.x[size_t(t * in.cols + j)]) * (double(w[k]) - double(scale[size_t(o)]) * q[k]);
      }
      err += d * d;
    }
  }
  return err;
}

TEST(Gptq, MatchesTheReferenceAndBeatsRoundToNearest) {
  // 300 columns: two whole blocks of kGptqBlock and a short one; column 7 is never used.
  const int64_t cols = 300, out = 40;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> mix(size_t(cols * cols));
  for (int64_t k = 0; k < cols; ++k) {
    for (int64_t j = 0; j < cols; ++j) {
      mix[size_t(k * cols + j)] = j == 7 ? 0.0f : (k == j ? 1.0f + 0.01f * float(j) : 0.0f) + 0.1f * normal(rng);
    }
  }
  const Inputs calib = correlated_inputs(600, cols, 1, mix), fresh = correlated_inputs(600, cols, 2, mix);
  std::vector<bf16_t> calib_bf16(calib.x.size());
  for (size_t i = 0; i < calib.x.size(); ++i) calib_bf16[i] = f32_to_bf16(calib.x[i]);
  ThreadPool pool(2);
  const GptqFactor factor = gptq_factor(calib_bf16.data(), calib.rows, cols, pool);
  const ReferenceFactor reference = reference_factor(calib.x, calib.rows, cols);
  ASSERT_EQ(factor.order, reference.order);

  for (int bits : {8, 4}) {
    const int hi = bits == 8 ? 127 : 7, lo = bits == 8 ? -127 : -8;
    std::vector<float> w(static_cast<size_t>(out * cols)), scale(static_cast<size_t>(out));
    for (float& v : w) v = normal(rng);
    std::vector<int8_t> nearest(w.size()), gptq(w.size()), ref(w.size());
    for (int64_t o = 0; o < out; ++o) {
      float amax = 0;
      for (int64_t j = 0; j < cols; ++j) amax = std::max(amax, std::fabs(w[size_t(o * cols + j)]));
      scale[size_t(o)] = amax / float(hi);
      for (int64_t j = 0; j < cols; ++j) {
        nearest[size_t(o * cols + j)] =
            int8_t(std::clamp(std::nearbyint(w[size_t(o * cols + j)] / scale[size_t(o)]), float(lo), float(hi)));
      }
      reference_round_row(reference, w.data() + o * cols, scale[size_t(o)], lo, hi, ref.data() + o * cols);
    }
    gptq_round_rows(factor, w.data(), out, scale.data(), cols, lo, hi, gptq.data(), pool);
    int64_t same = 0;
    for (size_t i = 0; i < gptq.size(); ++i) {
      ASSERT_GE(gptq[i], lo);
      ASSERT_LE(gptq[i], hi);
      same += gptq[i] == ref[i];
    }
    const double calib_nearest = output_error(calib, w, nearest, scale, out), calib_gptq = output_error(calib, w, gptq, scale, out);
    const double calib_ref = output_error(calib, w, ref, scale, out);
    const double fresh_nearest = output_error(fresh, w, nearest, scale, out), fresh_gptq = output_error(fresh, w, gptq, scale, out);
    std::printf("[ measured ] %d bits: %.4f of the integers as the reference's; output error calibration %.4g -> %.4g "
                "(reference %.4g), fresh %.4g -> %.4g\n",
                bits, double(same) / double(gptq.size()), calib_nearest, calib_gptq, calib_ref, fresh_nearest, fresh_gptq);
    EXPECT_GE(double(same) / double(gptq.size()), 0.98) << bits;
    EXPECT_NEAR(calib_gptq, calib_ref, 0.02 * calib_ref) << bits;
    EXPECT_LT(calib_gptq, 0.8 * calib_nearest) << bits;
    EXPECT_LT(fresh_gptq, 0.9 * fresh_nearest) << bits;
  }
}

}  // namespace
}  // namespace bamba::testing

// GPTQ rounding (model/gptq.h) against round-to-nearest on random weights and correlated
// random inputs: the output error on the inputs it was calibrated with, and on fresh ones
// drawn the same way, must be smaller; the integers stay in range.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "model/gptq.h"

namespace bamba::testing {
namespace {

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

TEST(Gptq, BeatsRoundToNearestOnCalibratedAndFreshInputs) {
  const int64_t cols = 48, out = 24;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> mix(size_t(cols * cols));
  for (int64_t k = 0; k < cols; ++k) {
    for (int64_t j = 0; j < cols; ++j) mix[size_t(k * cols + j)] = (k == j ? 1.0f + 0.1f * float(j) : 0.0f) + 0.3f * normal(rng);
  }
  const Inputs calib = correlated_inputs(400, cols, 1, mix), fresh = correlated_inputs(400, cols, 2, mix);
  std::vector<bf16_t> calib_bf16(calib.x.size());
  for (size_t i = 0; i < calib.x.size(); ++i) calib_bf16[i] = f32_to_bf16(calib.x[i]);
  ThreadPool pool(2);
  const GptqFactor factor = gptq_factor(calib_bf16.data(), calib.rows, cols, pool);

  for (int bits : {8, 4}) {
    const int hi = bits == 8 ? 127 : 7, lo = bits == 8 ? -127 : -8;
    std::vector<float> w(static_cast<size_t>(out * cols)), scale(static_cast<size_t>(out));
    for (float& v : w) v = normal(rng);
    std::vector<int8_t> nearest(w.size()), gptq(w.size());
    for (int64_t o = 0; o < out; ++o) {
      float amax = 0;
      for (int64_t j = 0; j < cols; ++j) amax = std::max(amax, std::fabs(w[size_t(o * cols + j)]));
      scale[size_t(o)] = amax / float(hi);
      for (int64_t j = 0; j < cols; ++j) {
        nearest[size_t(o * cols + j)] = int8_t(std::clamp(std::nearbyint(w[size_t(o * cols + j)] / scale[size_t(o)]), float(lo), float(hi)));
      }
      std::vector<float> row(w.begin() + o * cols, w.begin() + (o + 1) * cols);
      gptq_round_row(factor, row.data(), &scale[size_t(o)], cols, lo, hi, gptq.data() + o * cols);
    }
    for (int8_t q : gptq) {
      ASSERT_GE(q, lo);
      ASSERT_LE(q, hi);
    }
    const double calib_nearest = output_error(calib, w, nearest, scale, out), calib_gptq = output_error(calib, w, gptq, scale, out);
    const double fresh_nearest = output_error(fresh, w, nearest, scale, out), fresh_gptq = output_error(fresh, w, gptq, scale, out);
    std::printf("[ measured ] %d bits: output error calibration %.4g -> %.4g, fresh %.4g -> %.4g\n", bits, calib_nearest,
                calib_gptq, fresh_nearest, fresh_gptq);
    EXPECT_LT(calib_gptq, 0.8 * calib_nearest) << bits;
    EXPECT_LT(fresh_gptq, 0.9 * fresh_nearest) << bits;
  }
}

}  // namespace
}  // namespace bamba::testing

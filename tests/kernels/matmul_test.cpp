// matmul: a hand-computed case, and every ISA variant against the reference for each weight
// dtype and math mode on awkward shapes, with strided rows and padding left untouched.
#include <gtest/gtest.h>

#include "kernel_test_util.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

using testing::for_each_isa;
using testing::make_matrix;
using testing::random_floats;

TEST(Matmul, HandComputed) {
  ThreadPool pool(2);
  const float x[2 * 3] = {1, 2, 3, -1, 0.5f, 2};
  const std::vector<float> w_values = {1, 0, -1, 2, 1, 0.5f};  // [2, 3], exact in every dtype
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    std::vector<uint16_t> half(6);
    for (size_t i = 0; i < 6; ++i) half[i] = dtype == DType::BF16 ? f32_to_bf16(w_values[i]) : f32_to_f16(w_values[i]);
    const Matrix w{dtype == DType::F32 ? static_cast<const void*>(w_values.data()) : half.data(), dtype, 2, 3};
    for_each_isa([&](Isa) {
      float y[2 * 2];
      matmul(x, 2, 3, w, y, 2, MathMode::F32, pool);
      EXPECT_FLOAT_EQ(y[0], 1 - 3);
      EXPECT_FLOAT_EQ(y[1], 2 + 2 + 1.5f);
      EXPECT_FLOAT_EQ(y[2], -1 - 2);
      EXPECT_FLOAT_EQ(y[3], -2 + 0.5f + 1);
    });
  }
}

struct Shape {
  int64_t m, rows, cols;
};

TEST(Matmul, VariantsMatchReference) {
  const Shape shapes[] = {{1, 1, 1},    {1, 3, 17},    {3, 17, 33},  {1, 250, 1000}, {5, 67, 129},
                          {7, 250, 515}, {16, 64, 256}, {17, 9, 40}, {2, 5, 3},      {4, 33, 64},
                          // Small batches streamed in tiles of 8 rows (12 = 8 + 4) with a ragged K.
                          {12, 40, 100}, {15, 7, 33},
                          // Prompt-sized: several 32-row AMX blocks / 8-row tiles, ragged edges.
                          {70, 50, 97},  {33, 48, 64},  {48, 95, 160}};
  ThreadPool pool(2);
  uint32_t seed = 1;
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    for (const Shape& s : shapes) {
      const auto w = make_matrix(dtype, s.rows, s.cols, seed++);
      const int64_t x_stride = s.cols + 3, y_stride = s.rows + 2;
      const auto x = random_floats(size_t(s.m * x_stride), seed++);
      // Per output: Σ|x·w|, the scale of its rounding error.
      std::vector<double> abs_sum(size_t(s.m * s.rows), 0.0);
      for (int64_t i = 0; i < s.m; ++i) {
        for (int64_t j = 0; j < s.rows; ++j) {
          for (int64_t k = 0; k < s.cols; ++k) {
            abs_sum[i * s.rows + j] += std::fabs(double(x[i * x_stride + k]) * w.values[j * s.cols + k]);
          }
        }
      }
      std::vector<float> want(size_t(s.m * y_stride), -7.0f);
      reference::matmul(x.data(), s.m, x_stride, w.view, want.data(), y_stride, MathMode::F32, pool);
      for (MathMode mode : {MathMode::F32, MathMode::BF16}) {
        // F32: f32 rounding of a reordered sum; BF16: x may be rounded to bf16 (2^-9 relative).
        const double rel = mode == MathMode::F32 ? 1e-5 : 5e-3;
        for_each_isa([&](Isa) {
          SCOPED_TRACE(::testing::Message() << dtype_name(dtype) << " m=" << s.m << " rows=" << s.rows
                                          << " cols=" << s.cols << " mode=" << int(mode));
          std::vector<float> got(size_t(s.m * y_stride), -7.0f);
          matmul(x.data(), s.m, x_stride, w.view, got.data(), y_stride, mode, pool);
          for (int64_t i = 0; i < s.m; ++i) {
            for (int64_t j = 0; j < y_stride; ++j) {
              const size_t at = size_t(i * y_stride + j);
              if (j >= s.rows) {
                ASSERT_EQ(got[at], -7.0f) << "padding written at " << i << "," << j;
                continue;
              }
              const double tol = rel * abs_sum[i * s.rows + j];
              ASSERT_NEAR(got[at], want[at], tol) << "at " << i << "," << j;
            }
          }
        });
      }
    }
  }
}

TEST(Matmul, AnyPoolSize) {
  const auto w = make_matrix(DType::BF16, 37, 70, 99);
  const auto x = random_floats(3 * 70, 100);
  ThreadPool one(1);
  std::vector<float> want(3 * 37);
  reference::matmul(x.data(), 3, 70, w.view, want.data(), 37, MathMode::F32, one);
  for (int n_threads : {1, 3, 4}) {
    ThreadPool pool(n_threads);
    for_each_isa([&](Isa) {
      std::vector<float> got(3 * 37);
      matmul(x.data(), 3, 70, w.view, got.data(), 37, MathMode::F32, pool);
      testing::expect_close(got, want, 1e-5f, 1e-5f, "threads=" + std::to_string(n_threads));
    });
  }
}

}  // namespace
}  // namespace bamba::kernels

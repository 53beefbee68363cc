// matmul and embedding lookup over quantized weights (Quant::Int8 per channel or per group,
// Quant::Int4 packed), in both layouts: the RowBlocks reordering against the RowMajor values,
// every ISA variant against the reference in both math modes on awkward shapes, the F32 mode
// against a dense matmul of the dequantized weights, and the BF16 mode (int16 or int8
// activations per block) within its quantization error of the exact result.
#include <gtest/gtest.h>

#include <optional>
#include <random>

#include "base/error.h"
#include "kernel_test_util.h"
#include "kernels/quant_layout.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels {
namespace {

using testing::for_each_isa;
using testing::random_floats;

// Random q values and scales, RowMajor, and the dequantized f32 values.
struct QuantMatrix {
  std::vector<uint8_t> bytes;   // I8 or packed U8 storage
  std::vector<float> scales;    // [rows, cols / group]
  std::vector<float> values;    // [rows, cols] dequantized
  Matrix view;
};

// The same matrix in RowBlocks, where its shape allows.
struct BlockedMatrix {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  Matrix view;
};

std::optional<BlockedMatrix> blocked_copy(const QuantMatrix& m) {
  if (!can_block_rows(m.view)) return std::nullopt;
  BlockedMatrix b{m.bytes, m.scales, m.view};
  b.view.data = b.bytes.data();
  b.view.scales = b.scales.data();
  b.view = block_rows_in_place(b.view, b.bytes.data(), b.scales.data());
  return b;
}

// The layouts of a matrix to run the kernels on.
std::vector<Matrix> layouts(const QuantMatrix& m, const std::optional<BlockedMatrix>& blocked) {
  std::vector<Matrix> out = {m.view};
  if (blocked) out.push_back(blocked->view);
  return out;
}

QuantMatrix make_quant_matrix(Quant quant, int64_t rows, int64_t cols, int64_t group, uint32_t seed) {
  QuantMatrix m;
  std::mt19937 gen(seed);
  const int lo = quant == Quant::Int8 ? -128 : -8, hi = quant == Quant::Int8 ? 127 : 7;
  std::uniform_int_distribution<int> q_dist(lo, hi);
  std::uniform_real_distribution<float> s_dist(0.001f, 0.02f);
  m.scales.resize(size_t(rows * (cols / group)));
  for (float& s : m.scales) s = s_dist(gen);
  m.values.resize(size_t(rows * cols));
  m.bytes.assign(size_t(quant == Quant::Int8 ? rows * cols : rows * cols / 2), 0);
  for (int64_t j = 0; j < rows; ++j) {
    for (int64_t k = 0; k < cols; ++k) {
      const int q = q_dist(gen);
      const int64_t i = j * cols + k;
      if (quant == Quant::Int8) {
        m.bytes[size_t(i)] = uint8_t(int8_t(q));
      } else {
        m.bytes[size_t(i / 2)] |= uint8_t((q + 8) << (i % 2 ? 4 : 0));
      }
      m.values[size_t(i)] = m.scales[size_t(j * (cols / group) + k / group)] * float(q);
    }
  }
  m.view = {m.bytes.data(), quant == Quant::Int8 ? DType::I8 : DType::U8, rows, cols, quant, m.scales.data(), group};
  return m;
}

struct Case {
  Quant quant;
  int64_t m, rows, cols, group;
};

const Case kCases[] = {
    // Int8 per channel: any width, ragged 64-byte tails.
    {Quant::Int8, 1, 1, 1, 1},       {Quant::Int8, 1, 3, 17, 17},     {Quant::Int8, 3, 17, 33, 33},
    {Quant::Int8, 1, 250, 1000, 1000}, {Quant::Int8, 5, 67, 129, 129}, {Quant::Int8, 2, 5, 64, 64},
    // Int8 per group: multiples of the activation block (SIMD) and 16 (smaller blocks, reference).
    {Quant::Int8, 1, 37, 256, 64},   {Quant::Int8, 3, 9, 384, 128},   {Quant::Int8, 4, 7, 96, 32},
    {Quant::Int8, 3, 20, 48, 16},
    // Int4: groups of 32, 64 and 128; more activation rows than one pass keeps in cache.
    {Quant::Int4, 1, 1, 64, 64},     {Quant::Int4, 1, 61, 256, 64},   {Quant::Int4, 3, 13, 384, 128},
    {Quant::Int4, 5, 70, 512, 128},  {Quant::Int4, 2, 11, 96, 32},    {Quant::Int4, 17, 9, 128, 64},
    {Quant::Int4, 100, 40, 64, 32},  {Quant::Int8, 101, 33, 72, 72},
};

std::string describe(const Case& c) {
  return std::string(c.quant == Quant::Int8 ? "int8" : "int4") + " m=" + std::to_string(c.m) +
         " rows=" + std::to_string(c.rows) + " cols=" + std::to_string(c.cols) + " group=" + std::to_string(c.group);
}

TEST(QuantMatmul, VariantsMatchReference) {
  ThreadPool pool(2);
  uint32_t seed = 11;
  for (const Case& c : kCases) {
    const QuantMatrix w = make_quant_matrix(c.quant, c.rows, c.cols, c.group, seed++);
    const int64_t x_stride = c.cols + 3, y_stride = c.rows + 2;
    const auto x = random_floats(size_t(c.m * x_stride), seed++);
    std::vector<double> abs_sum(size_t(c.m * y_stride), 0.0);  // Σ|x·w|: the scale of rounding
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.rows; ++j) {
        for (int64_t k = 0; k < c.cols; ++k) {
          abs_sum[size_t(i * y_stride + j)] += std::fabs(double(x[size_t(i * x_stride + k)]) * w.values[size_t(j * c.cols + k)]);
        }
      }
    }
    const std::optional<BlockedMatrix> blocked = blocked_copy(w);
    for (MathMode mode : {MathMode::F32, MathMode::BF16}) {
      SCOPED_TRACE(describe(c) + (mode == MathMode::F32 ? " f32" : " bf16"));
      std::vector<float> want(size_t(c.m * y_stride), -7.0f);
      reference::matmul_quantized(x.data(), c.m, x_stride, w.view, want.data(), y_stride, mode, pool);
      for_each_isa([&](Isa) {
        for (const Matrix& view : layouts(w, blocked)) {
          SCOPED_TRACE(view.layout == QuantLayout::RowBlocks ? "row blocks" : "row major");
          std::vector<float> got(size_t(c.m * y_stride), -7.0f);
          matmul(x.data(), c.m, x_stride, view, got.data(), y_stride, mode, pool);
          for (size_t i = 0; i < got.size(); ++i) {
            if (int64_t(i) % y_stride >= c.rows) {
              ASSERT_EQ(got[i], -7.0f) << "padding overwritten at " << i;
            } else {
              ASSERT_NEAR(got[i], want[i], 1e-5 * abs_sum[i] + 1e-7) << "at " << i;
            }
          }
        }
      });
    }
  }
}

TEST(QuantMatmul, ModesAgreeWithDequantizedWeights) {
  ThreadPool pool(2);
  uint32_t seed = 101;
  for (const Case& c : kCases) {
    SCOPED_TRACE(describe(c));
    const QuantMatrix w = make_quant_matrix(c.quant, c.rows, c.cols, c.group, seed++);
    const auto x = random_floats(size_t(c.m * c.cols), seed++);
    const Matrix dense{w.values.data(), DType::F32, c.rows, c.cols};
    std::vector<float> exact(size_t(c.m * c.rows));
    reference::matmul(x.data(), c.m, c.cols, dense, exact.data(), c.rows, MathMode::F32, pool);
    const std::optional<BlockedMatrix> blocked = blocked_copy(w);
    for (const Matrix& view : layouts(w, blocked)) {
      std::vector<float> f32(exact.size()), integer_act(exact.size());
      matmul(x.data(), c.m, c.cols, view, f32.data(), c.rows, MathMode::F32, pool);
      matmul(x.data(), c.m, c.cols, view, integer_act.data(), c.rows, MathMode::BF16, pool);
      for (int64_t i = 0; i < c.m; ++i) {
        float x_max = 0;
        for (int64_t k = 0; k < c.cols; ++k) x_max = std::max(x_max, std::fabs(x[size_t(i * c.cols + k)]));
        for (int64_t j = 0; j < c.rows; ++j) {
          double w_abs = 0;
          for (int64_t k = 0; k < c.cols; ++k) w_abs += std::fabs(w.values[size_t(j * c.cols + k)]);
          const size_t o = size_t(i * c.rows + j);
          EXPECT_NEAR(f32[o], exact[o], 1e-5 * w_abs + 1e-7);
          // Each activation moves by at most half a step, max|x| / (2 · levels): int16 beside
          // Int8 weights, int8 beside Int4.
          const double levels = c.quant == Quant::Int8 ? 32767 : 127;
          EXPECT_NEAR(integer_act[o], exact[o], w_abs * x_max / (2 * levels) * 1.001 + 1e-6);
        }
      }
    }
  }
}

TEST(QuantMatmul, RejectsInconsistentLayouts) {
  ThreadPool pool(1);
  const QuantMatrix w = make_quant_matrix(Quant::Int8, 2, 64, 64, 3);
  std::vector<float> x(64, 1.0f), y(2);
  Matrix bad = w.view;
  bad.group_size = 48;  // does not divide 64
  EXPECT_THROW(matmul(x.data(), 1, 64, bad, y.data(), 2, MathMode::BF16, pool), Error);
  bad = w.view;
  bad.scales = nullptr;
  EXPECT_THROW(matmul(x.data(), 1, 64, bad, y.data(), 2, MathMode::BF16, pool), Error);
  bad = w.view;
  bad.dtype = DType::BF16;
  EXPECT_THROW(matmul(x.data(), 1, 64, bad, y.data(), 2, MathMode::BF16, pool), Error);
  QuantMatrix odd = make_quant_matrix(Quant::Int8, 2, 66, 66, 4);  // 66 columns: no steps of 4
  EXPECT_FALSE(can_block_rows(odd.view));
  EXPECT_THROW((void)block_rows_in_place(odd.view, odd.bytes.data(), odd.scales.data()), Error);
}

// Every value and scale keeps its place under quantized_value / quantized_scale, across full
// and short row blocks.
TEST(QuantLayout, RowBlocksKeepEveryValue) {
  for (Quant quant : {Quant::Int8, Quant::Int4}) {
    const QuantMatrix w = make_quant_matrix(quant, 37, 96, 32, 21);
    const std::optional<BlockedMatrix> blocked = blocked_copy(w);
    ASSERT_TRUE(blocked.has_value());
    EXPECT_EQ(blocked->view.layout, QuantLayout::RowBlocks);
    for (int64_t j = 0; j < w.view.rows; ++j) {
      for (int64_t k = 0; k < w.view.cols; ++k) {
        ASSERT_EQ(quantized_value(blocked->view, j, k), quantized_value(w.view, j, k)) << j << ", " << k;
        ASSERT_EQ(quantized_scale(blocked->view, j, k), quantized_scale(w.view, j, k)) << j << ", " << k;
        ASSERT_EQ(quantized_scale(w.view, j, k) * float(quantized_value(w.view, j, k)), w.values[size_t(j * 96 + k)]);
      }
    }
  }
}

TEST(QuantEmbedding, RowsAreDequantized) {
  for (Quant quant : {Quant::Int8, Quant::Int4}) {
    const QuantMatrix table = make_quant_matrix(quant, 19, 128, 64, 7);
    const int32_t ids[3] = {18, 0, 3};
    const std::optional<BlockedMatrix> blocked = blocked_copy(table);
    for (const Matrix& view : layouts(table, blocked)) {
      std::vector<float> out(3 * 128);
      embedding_rows(view, ids, 3, out.data());
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 128; ++c) EXPECT_EQ(out[size_t(r * 128 + c)], table.values[size_t(ids[r] * 128 + c)]);
      }
    }
  }
}

}  // namespace
}  // namespace bamba::kernels

// matmul for AVX512-BF16 in MathMode::BF16 with bf16 weights, activations rounded to bf16
// once. Two paths by the number of activation rows m:
// - small batches (kMinRows ≤ m < kMinPackedRows, batched decoding): the weight rows are
//   streamed straight from memory as in the GEMV, K in the lanes — each 32-element chunk of
//   kStreamRows weight rows meets every activation row in a vdpbf16ps — and each dot product
//   is reduced across lanes at the end, so the weights are read once at memory speed with no
//   packing work;
// - larger m (prompt chunks): weight panels packed per thread (bf16_gemm.inc) and a
//   vdpbf16ps register tile of 8 activation rows × 48 output columns (24 accumulators), so
//   every packed weight vector loaded serves 8 rows. Threads split the output columns.
// MathMode::F32, other weight dtypes and m below kMinRows go to the AVX-512 kernel (exact f32
// math).
#include <immintrin.h>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx512bf16 {
namespace {

#include "kernels/cpu/bf16_gemm.inc"

constexpr int kRows = 8;              // activation rows per register tile
constexpr int kPanels = 3;            // packed panels (of 16 columns) per register tile
constexpr int kCols = kPanels * kPanel;
// Below this many activation rows the weights are streamed straight from memory (GEMV):
// packing would only add traffic.
constexpr int64_t kMinRows = 4;
constexpr int kStreamRows = 3;   // weight rows per small-batch tile
constexpr int kStreamBatch = 8;  // activation rows per small-batch tile (3 × 8 accumulators)
static_assert(kMinPackedRows > kMinRows);

// y[0..R, 0..n_cols) = xa[0..R, :] · packed^T. xa: bf16 rows of k_pad; packed: kPanels
// panels of [k_pad / 2, 16] pairs, one after another.
template <int R>
void tile(const uint16_t* xa, int64_t k_pad, const uint32_t* packed, float* y, int64_t y_stride, int64_t n_cols) {
  const int64_t n_pairs = k_pad / 2, panel_stride = n_pairs * kPanel;
  __m512 acc[R][kPanels];
  #pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    #pragma GCC unroll 3
    for (int p = 0; p < kPanels; ++p) acc[i][p] = _mm512_setzero_ps();
  }
  const uint32_t* a_rows = reinterpret_cast<const uint32_t*>(xa);
  const int64_t a_stride = k_pad / 2;  // in pairs
  for (int64_t kp = 0; kp < n_pairs; ++kp) {
    __m512bh b[kPanels];
    #pragma GCC unroll 3
    for (int p = 0; p < kPanels; ++p) b[p] = (__m512bh)_mm512_loadu_si512(packed + p * panel_stride + kp * kPanel);
    #pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(int32_t(a_rows[i * a_stride + kp]));
      #pragma GCC unroll 3
      for (int p = 0; p < kPanels; ++p) acc[i][p] = _mm512_dpbf16_ps(acc[i][p], a, b[p]);
    }
  }
  #pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    #pragma GCC unroll 3
    for (int p = 0; p < kPanels; ++p) {
      const int64_t left = clamp64(n_cols - p * kPanel, 0, kPanel);
      _mm512_mask_storeu_ps(y + i * y_stride + p * kPanel, __mmask16((1u << left) - 1), acc[i][p]);
    }
  }
}

// y[i, r] = Σ_k xa[i, k] · w[r, k] for i < M, r < R: the weight rows read once, K in lanes.
// xa: bf16 rows of k_pad (zero past k_len); w: R bf16 rows of k_len (row stride k_len);
// y: [M, R] at row stride y_stride.
template <int R, int M>
void stream_tile(const uint16_t* xa, int64_t k_pad, const uint16_t* w, int64_t k_len, float* y, int64_t y_stride) {
  __m512 acc[R][M];
  #pragma GCC unroll 3
  for (int r = 0; r < R; ++r) {
    #pragma GCC unroll 8
    for (int i = 0; i < M; ++i) acc[r][i] = _mm512_setzero_ps();
  }
  const auto step = [&](int64_t k, __mmask32 mask) {
    __m512bh wv[R];
    #pragma GCC unroll 3
    for (int r = 0; r < R; ++r) {
      // Each row is a new 4 KiB page to the hardware prefetcher, which restarts there: fetch
      // the same place of the next tile's rows while this tile computes.
      _mm_prefetch(reinterpret_cast<const char*>(w + (r + R) * k_len + k), _MM_HINT_T0);
      wv[r] = (__m512bh)_mm512_maskz_loadu_epi16(mask, w + r * k_len + k);
    }
    #pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m512bh a = (__m512bh)_mm512_loadu_si512(xa + i * k_pad + k);
      #pragma GCC unroll 3
      for (int r = 0; r < R; ++r) acc[r][i] = _mm512_dpbf16_ps(acc[r][i], a, wv[r]);
    }
  };
  int64_t k = 0;
  for (; k + 32 <= k_len; k += 32) step(k, ~__mmask32(0));
  if (k < k_len) step(k, (__mmask32(1) << (k_len - k)) - 1);
  #pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 3
    for (int r = 0; r < R; ++r) y[i * y_stride + r] = _mm512_reduce_add_ps(acc[r][i]);
  }
}

using StreamTileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, int64_t, float*, int64_t);
template <int R>
constexpr StreamTileFn kStreamTiles[kStreamBatch + 1] = {nullptr,          stream_tile<R, 1>, stream_tile<R, 2>,
                                                         stream_tile<R, 3>, stream_tile<R, 4>, stream_tile<R, 5>,
                                                         stream_tile<R, 6>, stream_tile<R, 7>, stream_tile<R, 8>};

StreamTileFn pick_stream_tile(int64_t n_rows, int64_t batch) {
  switch (n_rows) {
    case 1: return kStreamTiles<1>[batch];
    case 2: return kStreamTiles<2>[batch];
    default: return kStreamTiles<3>[batch];
  }
}

void matmul_bf16_streamed(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y,
                          int64_t y_stride, ThreadPool& pool) {
  const int64_t k_len = w.cols, k_pad = round_up(k_len, kKStep);
  uint16_t* xa = reinterpret_cast<uint16_t*>(thread_scratch(0, size_t(m * k_pad / 2)));
  convert_activations(x, m, x_stride, k_len, xa, m, k_pad, pool);
  const auto* weights = static_cast<const uint16_t*>(w.data);
  over_row_tiles(pool, w.rows, kStreamRows, m * w.rows * k_len, [&](int64_t j0, int64_t n_rows) {
    for (int64_t i = 0; i < m; i += kStreamBatch) {
      pick_stream_tile(n_rows, min64(kStreamBatch, m - i))(xa + i * k_pad, k_pad, weights + j0 * k_len, k_len,
                                                           y + i * y_stride + j0, y_stride);
    }
  });
}

using TileFn = void (*)(const uint16_t*, int64_t, const uint32_t*, float*, int64_t, int64_t);
constexpr TileFn kTiles[kRows + 1] = {nullptr,  tile<1>, tile<2>, tile<3>, tile<4>,
                                      tile<5>, tile<6>, tile<7>, tile<8>};

void matmul_bf16(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                 ThreadPool& pool) {
  const int64_t k_len = w.cols, k_pad = round_up(k_len, kKStep);
  uint16_t* xa = reinterpret_cast<uint16_t*>(thread_scratch(0, size_t(m * k_pad / 2)));
  convert_activations(x, m, x_stride, k_len, xa, m, k_pad, pool);
  const auto* weights = static_cast<const uint16_t*>(w.data);
  const int64_t n_groups = (w.rows + kCols - 1) / kCols;
  parallel_ranges(pool, n_groups, [&](int64_t group_begin, int64_t group_end) {
    uint32_t* packed = reinterpret_cast<uint32_t*>(thread_scratch(1, size_t(kPanels * k_pad / 2 * kPanel)));
    for (int64_t g = group_begin; g < group_end; ++g) {
      const int64_t j0 = g * kCols, n_cols = min64(kCols, w.rows - j0);
      for (int p = 0; p < kPanels; ++p) {
        pack_panel(weights, w.rows, k_len, j0 + p * kPanel, k_pad, packed + p * (k_pad / 2) * kPanel);
      }
      for (int64_t i = 0; i < m; i += kRows) {
        const int64_t rows = min64(kRows, m - i);
        kTiles[rows](xa + i * k_pad, k_pad, packed, y + i * y_stride + j0, y_stride, n_cols);
      }
    }
  });
}

}  // namespace

void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride, MathMode mode,
            ThreadPool& pool) {
  if (mode != MathMode::BF16 || w.dtype != DType::BF16 || m < kMinRows) {
    return avx512::matmul(x, m, x_stride, w, y, y_stride, mode, pool);
  }
  if (m < kMinPackedRows) return matmul_bf16_streamed(x, m, x_stride, w, y, y_stride, pool);
  matmul_bf16(x, m, x_stride, w, y, y_stride, pool);
}

}  // namespace bamba::kernels::avx512bf16

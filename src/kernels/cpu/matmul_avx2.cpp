// matmul for AVX2 + FMA + F16C: tiles of 4 weight rows × up to 2 activation rows (16 ymm
// registers), weights widened in registers and FMA'd in f32 (exact up to f32 rounding in
// both math modes). The k tail goes through zero-padded copies. Threads split weight rows.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx2 {
namespace {

constexpr int kRowTile = 4;  // weight rows per tile
constexpr int kMTile = 2;    // activation rows per tile

template <DType T>
constexpr int64_t elem_bytes() {
  return T == DType::F32 ? 4 : 2;
}

template <DType T>
__m256 load_weights(const void* row, int64_t k) {
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(row) + k);
  } else {
    const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + k));
    if constexpr (T == DType::BF16) {
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
    } else {
      return _mm256_cvtph_ps(half);
    }
  }
}

float reduce_add(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The accumulators stay in registers only if the loops over tile rows are unrolled before
// scalar replacement runs, hence the unroll pragmas.
template <DType T, int R, int M>
void tile(const float* x, int64_t x_stride, const void* w_row0, int64_t cols, float* y, int64_t y_stride) {
  const char* w_rows[R];
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r) w_rows[r] = static_cast<const char*>(w_row0) + r * cols * elem_bytes<T>();
  __m256 acc[M][R];
  #pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[i][r] = _mm256_setzero_ps();
  }
  // Two passes over the same loop: the multiple-of-8 part in place, then the last
  // cols % 8 elements from zero-padded copies.
  const int64_t main_cols = cols / 8 * 8, rest = cols - main_cols;
  float x_tail[M][8] = {};
  alignas(32) char w_tail[R][8 * 4] = {};
  const float* xs[M];
  const char* ws[R];
  #pragma GCC unroll 16
  for (int i = 0; i < M; ++i) xs[i] = x + i * x_stride;
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r) ws[r] = w_rows[r];
  int64_t k_end = main_cols;
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t k = 0; k < k_end; k += 8) {
      __m256 w[R];
      #pragma GCC unroll 16
      for (int r = 0; r < R; ++r) w[r] = load_weights<T>(ws[r], k);
      #pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        const __m256 xv = _mm256_loadu_ps(xs[i] + k);
        #pragma GCC unroll 16
        for (int r = 0; r < R; ++r) acc[i][r] = _mm256_fmadd_ps(xv, w[r], acc[i][r]);
      }
    }
    if (pass == 1 || rest == 0) break;
    #pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      std::memcpy(x_tail[i], xs[i] + main_cols, size_t(rest) * 4);
      xs[i] = x_tail[i];
    }
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      std::memcpy(w_tail[r], ws[r] + main_cols * elem_bytes<T>(), size_t(rest * elem_bytes<T>()));
      ws[r] = w_tail[r];
    }
    k_end = 8;
  }
  #pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) y[i * y_stride + r] = reduce_add(acc[i][r]);
  }
}

using TileFn = void (*)(const float*, int64_t, const void*, int64_t, float*, int64_t);

template <DType T, int R>
TileFn pick_m(int64_t m) {
  return m == 1 ? tile<T, R, 1> : tile<T, R, 2>;
}

}  // namespace

#include "kernels/cpu/matmul_rows.inc"

}  // namespace bamba::kernels::avx2

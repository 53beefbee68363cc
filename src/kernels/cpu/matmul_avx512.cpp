// matmul for AVX-512 (F, BW, VL, DQ): tiles of 4 weight rows × up to 4 activation rows, the
// weights widened in registers (bf16: a 16-bit shift, f16: vcvtph2ps) and FMA'd in f32, so
// the result is exact up to f32 rounding in both math modes. Threads split the weight rows;
// each weight row is read once per 4 activation rows, from cache after the first.
#include <immintrin.h>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::avx512 {
namespace {

constexpr int kRowTile = 4;  // weight rows per tile
constexpr int kMTile = 4;    // activation rows per tile

template <DType T>
__m512 load_weights(const void* row, int64_t k, __mmask16 mask) {
  if constexpr (T == DType::F32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(row) + k);
  } else {
    const __m256i half = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + k);
    if constexpr (T == DType::BF16) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
    } else {
      return _mm512_cvtph_ps(half);
    }
  }
}

// The accumulators stay in registers only if the loops over tile rows are unrolled before
// scalar replacement runs, hence the unroll pragmas.
template <DType T, int R, int M>
void tile(const float* x, int64_t x_stride, const void* w_row0, int64_t cols, float* y, int64_t y_stride) {
  const void* w_rows[R];
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    w_rows[r] = static_cast<const char*>(w_row0) + r * cols * int64_t(T == DType::F32 ? 4 : 2);
  }
  __m512 acc[M][R];
  #pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[i][r] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < cols; k += 16) {
    const __mmask16 mask = cols - k >= 16 ? __mmask16(0xffff) : __mmask16((1u << (cols - k)) - 1);
    __m512 w[R];
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) w[r] = load_weights<T>(w_rows[r], k, mask);
    #pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + i * x_stride + k);
      #pragma GCC unroll 16
      for (int r = 0; r < R; ++r) acc[i][r] = _mm512_fmadd_ps(xv, w[r], acc[i][r]);
    }
  }
  #pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) y[i * y_stride + r] = _mm512_reduce_add_ps(acc[i][r]);
  }
}

using TileFn = void (*)(const float*, int64_t, const void*, int64_t, float*, int64_t);

template <DType T, int R>
TileFn pick_m(int64_t m) {
  switch (m) {
    case 1: return tile<T, R, 1>;
    case 2: return tile<T, R, 2>;
    case 3: return tile<T, R, 3>;
    default: return tile<T, R, 4>;
  }
}

}  // namespace

#include "kernels/cpu/matmul_rows.inc"

}  // namespace bamba::kernels::avx512

// matmul over Int8 / Int4 weights in RowBlocks (ops.h) with AVX2, BF16 mode: each activation
// row is quantized per block of activation_block(w) columns (the reference's rounding), and each
// step of 4 columns multiplies the 16 rows of a block (two registers of 8 rows × 4 bytes) by
// the 4 broadcast activations.
// Int8 weights meet int16 activations in vpmaddwd (s16 pairs → s32): two shifts split a
// register's bytes into sign-extended words, columns (0, 2) and (1, 3) of every row, and the
// activations are stored in that order.
// Int4 weights meet int8 activations in vpmaddubsw + vpmaddwd. vpmaddubsw wants an unsigned
// side and saturates its pair sums at 2^15, so it gets |q| and the activations with q's sign
// (|qx| ≤ 127): every pair stays below 2^15. The block sums are exact, as the reference's.
// F32 mode, RowMajor matrices and weight groups that activation blocks do not tile go to the
// reference. For CPUs without AVX512-VNNI, where the reference would otherwise run.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/quant_variants.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels::avx2 {
namespace {

constexpr int kMTile = 2;
// Activation rows whose integer copies stay in cache while every row block streams past them.
constexpr int64_t kRowsPerPass = 96;

// Activations prepared once per call, shared by every thread.
struct Activations {
  const int8_t* q = nullptr;     // Int4 weights: [m, stride] qx
  const int16_t* q16 = nullptr;  // Int8 weights: [m, stride] qx, columns 4s + (0, 2, 1, 3)
  int64_t stride = 0;            // cols rounded up to 32
  const float* scale = nullptr;  // [m, n_blocks]
  int64_t block = 0;             // activation_block(w) columns
  int64_t n_blocks = 0;
};

// x[0, n) per block of `block` columns: scale = max|x| / levels, q = round-to-even(x · levels
// / max|x|), as reference::quantize_activation_blocks (builtins: no library code here), q[k]
// stored at q[place(k)].
template <class Int, class Place>
void quantize_row(const float* x, int64_t n, int64_t block, int32_t levels, Int* q, float* scale, Place place) {
  for (int64_t k0 = 0, b = 0; k0 < n; k0 += block, ++b) {
    const int64_t len = n - k0 < block ? n - k0 : block;
    float amax = 0;
    for (int64_t k = 0; k < len; ++k) amax = __builtin_fmaxf(amax, __builtin_fabsf(x[k0 + k]));
    const float inv = amax > 0 ? float(levels) / amax : 0.0f;
    for (int64_t k = k0; k < k0 + len; ++k) q[place(k)] = Int(__builtin_nearbyintf(x[k] * inv));
    scale[b] = amax / float(levels);
  }
}

// Column k's place among the int16 activations: each 4 in the order (0, 2, 1, 3).
int64_t paired_place(int64_t k) { return (k & ~int64_t(3)) | (k & 1) << 1 | (k & 2) >> 1; }

int32_t load_quad(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Per 32-bit lane, the exact sum of its 4 products w·x (signed bytes, |x| ≤ 127).
__m256i dot4(__m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// Lanes of the 8 rows of half h (0: rows 0-7, 1: rows 8-15) that a block of `rows` rows has.
__m256i half_lanes(int64_t rows, int h) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(rows - 8 * h)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// y[i0 + i, j0 + r] for i < M and the rows r of the row block at weight row j0.
template <bool Int4, int M>
void tile(const Activations& a, int64_t i0, const Matrix& w, int64_t j0, float* y, int64_t y_stride) {
  constexpr int64_t kStep = Int4 ? 8 : 4;  // columns per 4 bytes of a row
  const int64_t groups = w.cols / w.group_size;
  const int64_t rows = w.rows - j0 < kQuantRowBlock ? w.rows - j0 : kQuantRowBlock;
  const uint8_t* values = static_cast<const uint8_t*>(w.data) + j0 * (Int4 ? w.cols / 2 : w.cols);
  const float* scales = w.scales + j0 * groups;
  const int64_t step_bytes = 4 * rows;
  const __m256i lanes[2] = {half_lanes(rows, 0), half_lanes(rows, 1)};
  const __m256i low4 = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
  alignas(32) uint8_t padded[64] = {};  // a short block's step, zero-filled to 16 rows
  __m256 out[M][2];
  #pragma GCC unroll 2
  for (int i = 0; i < M; ++i) out[i][0] = out[i][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const int64_t k0 = b * a.block;
    const int64_t k1 = k0 + a.block < w.cols ? k0 + a.block : w.cols;
    __m256i acc[M][2];
    #pragma GCC unroll 2
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    for (int64_t k = k0; k < k1; k += kStep) {
      const uint8_t* p = values + (k / kStep) * step_bytes;
      if (rows < kQuantRowBlock) {
        std::memcpy(padded, p, size_t(step_bytes));
        p = padded;
      }
      const __m256i v[2] = {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32))};
      #pragma GCC unroll 2
      for (int i = 0; i < M; ++i) {
        #pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          if constexpr (Int4) {
            // Byte c of a row's 4: column k + c in the low nibble, k + 4 + c in the high; q + 8.
            const int8_t* xq = a.q + (i0 + i) * a.stride + k;
            const __m256i x_lo = _mm256_set1_epi32(load_quad(xq)), x_hi = _mm256_set1_epi32(load_quad(xq + 4));
            const __m256i lo = _mm256_sub_epi8(_mm256_and_si256(v[h], low4), eight);
            const __m256i hi = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(v[h], 4), low4), eight);
            acc[i][h] = _mm256_add_epi32(acc[i][h], _mm256_add_epi32(dot4(lo, x_lo), dot4(hi, x_hi)));
          } else {
            // Per row, columns (0, 2) and (1, 3) of the step as sign-extended words.
            const int16_t* xq = a.q16 + (i0 + i) * a.stride + k;
            const __m256i even = _mm256_srai_epi16(_mm256_slli_epi16(v[h], 8), 8), odd = _mm256_srai_epi16(v[h], 8);
            const __m256i x_even = _mm256_set1_epi32(load_quad(xq)), x_odd = _mm256_set1_epi32(load_quad(xq + 2));
            const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(even, x_even), _mm256_madd_epi16(odd, x_odd));
            acc[i][h] = _mm256_add_epi32(acc[i][h], sum);
          }
        }
      }
    }
    const int64_t g = k0 / w.group_size;
    const __m256 s[2] = {_mm256_maskload_ps(scales + g * rows, lanes[0]),
                         _mm256_maskload_ps(scales + g * rows + 8, lanes[1])};
    #pragma GCC unroll 2
    for (int i = 0; i < M; ++i) {
      const __m256 sx = _mm256_set1_ps(a.scale[(i0 + i) * a.n_blocks + b]);
      #pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        out[i][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[i][h]), _mm256_mul_ps(s[h], sx), out[i][h]);
      }
    }
  }
  #pragma GCC unroll 2
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) _mm256_maskstore_ps(y + i * y_stride + 8 * h, lanes[h], out[i][h]);
  }
}

using TileFn = void (*)(const Activations&, int64_t, const Matrix&, int64_t, float*, int64_t);

TileFn pick_tile(bool int4, int64_t m) {
  if (int4) return m == 1 ? tile<true, 1> : tile<true, 2>;
  return m == 1 ? tile<false, 1> : tile<false, 2>;
}

void matmul_row_blocks(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                       ThreadPool& pool) {
  Activations a;
  a.stride = (w.cols + 31) / 32 * 32;
  a.block = activation_block(w);
  a.n_blocks = (w.cols + a.block - 1) / a.block;
  const bool int4 = w.quant == Quant::Int4;
  const int32_t levels = activation_levels(w);
  // Scratch of the calling thread, read by all: [m, n_blocks] scales, then [m, stride] int8
  // or int16 activations.
  const int64_t value_bytes = int4 ? 1 : 2;
  float* scratch = thread_scratch(1, size_t(m * a.n_blocks + m * a.stride * value_bytes / 4));
  void* q = scratch + m * a.n_blocks;
  for (int64_t i = 0; i < m; ++i) {
    float* scale = scratch + i * a.n_blocks;
    if (int4) {
      quantize_row(x + i * x_stride, w.cols, a.block, levels, static_cast<int8_t*>(q) + i * a.stride, scale,
                   [](int64_t k) { return k; });
    } else {
      quantize_row(x + i * x_stride, w.cols, a.block, levels, static_cast<int16_t*>(q) + i * a.stride, scale,
                   paired_place);
    }
  }
  a.q = static_cast<const int8_t*>(q);
  a.q16 = static_cast<const int16_t*>(q);
  a.scale = scratch;
  for (int64_t pass = 0; pass < m; pass += kRowsPerPass) {
    const int64_t pass_end = pass + kRowsPerPass < m ? pass + kRowsPerPass : m;
    over_row_tiles(pool, w.rows, kQuantRowBlock, (pass_end - pass) * w.rows * w.cols, [&](int64_t j, int64_t) {
      for (int64_t i = pass; i < pass_end; i += kMTile) {
        pick_tile(int4, pass_end - i < kMTile ? pass_end - i : kMTile)(a, i, w, j, y + i * y_stride + j, y_stride);
      }
    });
  }
}

}  // namespace

void matmul_quantized(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                      MathMode mode, ThreadPool& pool) {
  // Activation blocks must hold whole steps of 4 (Int8) or 8 (Int4) columns.
  const bool blocks_fit = activation_block(w) % (w.quant == Quant::Int4 ? 8 : 4) == 0;
  if (mode == MathMode::BF16 && w.layout == QuantLayout::RowBlocks && blocks_fit) {
    return matmul_row_blocks(x, m, x_stride, w, y, y_stride, pool);
  }
  reference::matmul_quantized(x, m, x_stride, w, y, y_stride, mode, pool);
}

}  // namespace bamba::kernels::avx2

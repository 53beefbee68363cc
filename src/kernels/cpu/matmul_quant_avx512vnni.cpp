// matmul over Int8 / Int4 weights in RowBlocks (ops.h) with AVX-512. BF16 mode (VNNI): each
// activation row is quantized per block of activation_block(w) columns (the reference's
// rounding). Int4 weights meet int8 activations in vpdpbusd (u8 × s8 → s32), the weights
// being the unsigned side as the stored nibble q + 8, so every block sum carries 8 · Σqx,
// subtracted once per block. Int8 weights meet int16 activations in vpdpwssd (s16 pairs →
// s32): the bytes of each 4-column step split into two registers of sign-extended words —
// columns (0, 2) and (1, 3) of every row — by two shifts, and the activations are stored in
// that order. F32 mode: each column's 16 weights are shifted out of the register, widened to
// f32 and FMA'd with the exact activations, one scale per group. A vector register holds 4
// columns of the 16 rows of a block, so a GEMV streams each block contiguously and the 16
// results land in one register: no horizontal sums. Two row blocks share every activation
// broadcast; up to kMTile activation rows share every weight load.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/quant_variants.h"
#include "kernels/reference/reference.h"

namespace bamba::kernels::avx512vnni {
namespace {

constexpr int kBlocksPerTile = 2;
constexpr int kMTile = 4;
// Activation rows whose integer copies stay in cache while every weight tile streams past them.
constexpr int64_t kRowsPerPass = 96;

// Activations prepared once per call, shared by every thread: integer copies (BF16 mode) or
// the rows themselves (F32 mode).
struct Activations {
  const int8_t* q = nullptr;        // Int4 weights: [m, stride] qx, zero beyond cols
  const int16_t* q16 = nullptr;     // Int8 weights: [m, stride] qx, columns 4s + (0, 2, 1, 3)
  int64_t stride = 0;               // cols rounded up to 64
  const float* scale = nullptr;     // [m, n_blocks]
  const int32_t* offset = nullptr;  // Int4 weights: [m, n_blocks] 8 · Σqx over the block
  int64_t block = 0;                // activation_block(w) columns
  int64_t n_blocks = 0;
  const float* x = nullptr;         // F32 mode: [m, cols], row stride x_stride
  int64_t x_stride = 0;
};

// Lanes of a 16-column piece with `left` columns left in its block.
__mmask16 piece_lanes(int64_t left) { return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1); }

// Quantizes x[0, n) per block of `block` columns to [-levels, levels]: sets scale[b] and calls
// store(k, b, lanes, q) with the integers of each 16-column piece from column k (lanes of
// it inside the block; the others are 0).
template <class Store>
void quantize_blocks(const float* x, int64_t n, int64_t block, int32_t levels, float* scale, Store store) {
  for (int64_t k0 = 0, b = 0; k0 < n; k0 += block, ++b) {
    const int64_t end = n - k0 < block ? n : k0 + block;
    __m512 amax = _mm512_setzero_ps();
    for (int64_t k = k0; k < end; k += 16) {
      amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_maskz_loadu_ps(piece_lanes(end - k), x + k)));
    }
    const float max_abs = _mm512_reduce_max_ps(amax);
    const __m512 inv = _mm512_set1_ps(max_abs > 0 ? float(levels) / max_abs : 0.0f);
    for (int64_t k = k0; k < end; k += 16) {
      const __mmask16 lanes = piece_lanes(end - k);
      store(k, b, lanes, _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + k), inv)));
    }
    scale[b] = max_abs / float(levels);
  }
}

// x[0, n) as int8 (zero-padded to `stride`), with offset[b] = 8 · Σqx over block b.
void quantize_row_int8(const float* x, int64_t n, int64_t block, int64_t stride, int8_t* q, float* scale,
                       int32_t* offset) {
  std::memset(q, 0, size_t(stride));
  std::memset(offset, 0, size_t((n + block - 1) / block) * sizeof(int32_t));
  quantize_blocks(x, n, block, 127, scale, [&](int64_t k, int64_t b, __mmask16 lanes, __m512i qk) {
    _mm_mask_storeu_epi8(q + k, lanes, _mm512_cvtsepi32_epi8(qk));
    offset[b] += 8 * _mm512_reduce_add_epi32(qk);
  });
}

// x[0, n) as int16 up to `levels` (zero-padded to `stride`), each 4 columns in the order
// (0, 2, 1, 3).
void quantize_row_int16(const float* x, int64_t n, int64_t block, int32_t levels, int64_t stride, int16_t* q,
                        float* scale) {
  std::memset(q, 0, size_t(stride) * sizeof(int16_t));
  constexpr int kOrder = 0xd8;  // words 0, 2, 1, 3 of every 4
  quantize_blocks(x, n, block, levels, scale, [&](int64_t k, int64_t, __mmask16 lanes, __m512i qk) {
    const __m256i words = _mm512_cvtsepi32_epi16(qk);
    _mm256_mask_storeu_epi16(q + k, lanes, _mm256_shufflehi_epi16(_mm256_shufflelo_epi16(words, kOrder), kOrder));
  });
}

int32_t load_quad(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

int32_t load_pair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// NB row blocks from weight row j0: where their values and scales start, and which bytes and
// lanes of a register their rows fill (a last block may have fewer than 16 rows).
template <int NB>
struct RowBlockTile {
  const uint8_t* values[NB];
  const float* scales[NB];
  int64_t step_bytes[NB];  // 4 · rows of the block: one step of 4 (Int8) or 8 (Int4) columns
  __mmask64 byte_lanes[NB];
  __mmask16 row_lanes[NB];

  RowBlockTile(const Matrix& w, int64_t j0) {
    const int64_t groups = w.cols / w.group_size;
    const int64_t row_bytes = w.quant == Quant::Int4 ? w.cols / 2 : w.cols;
    #pragma GCC unroll 2
    for (int nb = 0; nb < NB; ++nb) {
      const int64_t row0 = j0 + nb * kQuantRowBlock;
      const int64_t rows = w.rows - row0 < kQuantRowBlock ? w.rows - row0 : kQuantRowBlock;
      values[nb] = static_cast<const uint8_t*>(w.data) + row0 * row_bytes;
      scales[nb] = w.scales + row0 * groups;
      step_bytes[nb] = 4 * rows;
      byte_lanes[nb] = rows == kQuantRowBlock ? ~__mmask64(0) : (__mmask64(1) << (4 * rows)) - 1;
      row_lanes[nb] = __mmask16((1u << rows) - 1);
    }
  }
  // The register of block nb's step `step` (columns 4·step.. for Int8, 8·step.. for Int4).
  __m512i load(int nb, int64_t step) const { return _mm512_maskz_loadu_epi8(byte_lanes[nb], values[nb] + step * step_bytes[nb]); }
  // Block nb's row scales of group g.
  __m512 scale(int nb, int64_t g) const { return _mm512_maskz_loadu_ps(row_lanes[nb], scales[nb] + g * (step_bytes[nb] / 4)); }
  template <int M>
  void store(const __m512 (&out)[M][NB], float* y, int64_t y_stride) const {
    #pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      #pragma GCC unroll 2
      for (int nb = 0; nb < NB; ++nb) _mm512_mask_storeu_ps(y + i * y_stride + nb * kQuantRowBlock, row_lanes[nb], out[i][nb]);
    }
  }
};

// y[i0 + i, j0 + r] for i < M and the weight rows of NB row blocks from row j0, integer
// activations (int8 for Int4 weights, int16 for Int8).
template <bool Int4, int NB, int M>
void tile_integer(const Activations& a, int64_t i0, const Matrix& w, int64_t j0, float* y, int64_t y_stride) {
  const RowBlockTile<NB> t(w, j0);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  __m512 out[M][NB];
  #pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 2
    for (int nb = 0; nb < NB; ++nb) out[i][nb] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const int64_t k0 = b * a.block;
    const int64_t k1 = k0 + a.block < w.cols ? k0 + a.block : w.cols;
    __m512i acc[M][NB];
    #pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      #pragma GCC unroll 2
      for (int nb = 0; nb < NB; ++nb) acc[i][nb] = _mm512_setzero_si512();
    }
    if constexpr (Int4) {
      #pragma GCC unroll 4
      for (int64_t k = k0; k < k1; k += 8) {
        __m512i lo[NB], hi[NB];
        #pragma GCC unroll 2
        for (int nb = 0; nb < NB; ++nb) {
          const __m512i v = t.load(nb, k / 8);
          lo[nb] = _mm512_and_si512(v, low4);
          hi[nb] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
        }
        #pragma GCC unroll 4
        for (int i = 0; i < M; ++i) {
          const int8_t* xq = a.q + (i0 + i) * a.stride + k;
          const __m512i x_lo = _mm512_set1_epi32(load_quad(xq)), x_hi = _mm512_set1_epi32(load_quad(xq + 4));
          #pragma GCC unroll 2
          for (int nb = 0; nb < NB; ++nb) {
            acc[i][nb] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc[i][nb], lo[nb], x_lo), hi[nb], x_hi);
          }
        }
      }
    } else {
      #pragma GCC unroll 8
      for (int64_t k = k0; k < k1; k += 4) {
        // Per row, columns (0, 2) and (1, 3) of the step as sign-extended words.
        __m512i even[NB], odd[NB];
        #pragma GCC unroll 2
        for (int nb = 0; nb < NB; ++nb) {
          const __m512i v = t.load(nb, k / 4);
          even[nb] = _mm512_srai_epi16(_mm512_slli_epi16(v, 8), 8);
          odd[nb] = _mm512_srai_epi16(v, 8);
        }
        #pragma GCC unroll 4
        for (int i = 0; i < M; ++i) {
          const int16_t* xq = a.q16 + (i0 + i) * a.stride + k;
          const __m512i x_even = _mm512_set1_epi32(load_pair(xq)), x_odd = _mm512_set1_epi32(load_pair(xq + 2));
          #pragma GCC unroll 2
          for (int nb = 0; nb < NB; ++nb) {
            acc[i][nb] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(acc[i][nb], even[nb], x_even), odd[nb], x_odd);
          }
        }
      }
    }
    const int64_t g = k0 / w.group_size;
    __m512 s[NB];
    #pragma GCC unroll 2
    for (int nb = 0; nb < NB; ++nb) s[nb] = t.scale(nb, g);
    #pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      const int64_t ib = (i0 + i) * a.n_blocks + b;
      const __m512 sx = _mm512_set1_ps(a.scale[ib]);
      const __m512i offset = _mm512_set1_epi32(Int4 ? a.offset[ib] : 0);
      #pragma GCC unroll 2
      for (int nb = 0; nb < NB; ++nb) {
        const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][nb], offset));
        out[i][nb] = _mm512_fmadd_ps(dot, _mm512_mul_ps(s[nb], sx), out[i][nb]);
      }
    }
  }
  t.store(out, y, y_stride);
}

// The same with exact f32 activations (F32 mode): y = Σ_g s[g] · Σ_{k∈g} x[k] · q[k].
template <bool Int4, int NB, int M>
void tile_f32(const Activations& a, int64_t i0, const Matrix& w, int64_t j0, float* y, int64_t y_stride) {
  const RowBlockTile<NB> t(w, j0);
  constexpr int64_t kStep = Int4 ? 8 : 4;
  const __m512i low4 = _mm512_set1_epi32(0x0f), eight = _mm512_set1_epi32(8);
  __m512 out[M][NB];
  #pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    #pragma GCC unroll 2
    for (int nb = 0; nb < NB; ++nb) out[i][nb] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < w.cols / w.group_size; ++g) {
    __m512 acc[M][NB];
    #pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      #pragma GCC unroll 2
      for (int nb = 0; nb < NB; ++nb) acc[i][nb] = _mm512_setzero_ps();
    }
    for (int64_t k = g * w.group_size; k < (g + 1) * w.group_size; k += kStep) {
      __m512i v[NB];
      #pragma GCC unroll 2
      for (int nb = 0; nb < NB; ++nb) v[nb] = t.load(nb, k / kStep);
      #pragma GCC unroll 8
      for (int c = 0; c < kStep; ++c) {
        // Column k + c of each row: Int8 byte c, sign-extended; Int4 nibble (c % 4, high
        // when c >= 4) minus 8.
        __m512 wc[NB];
        #pragma GCC unroll 2
        for (int nb = 0; nb < NB; ++nb) {
          const __m512i q = Int4 ? _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(v[nb], 8 * (c % 4) + 4 * (c / 4)), low4), eight)
                                 : _mm512_srai_epi32(_mm512_slli_epi32(v[nb], 24 - 8 * c), 24);
          wc[nb] = _mm512_cvtepi32_ps(q);
        }
        #pragma GCC unroll 4
        for (int i = 0; i < M; ++i) {
          const __m512 xc = _mm512_set1_ps(a.x[(i0 + i) * a.x_stride + k + c]);
          #pragma GCC unroll 2
          for (int nb = 0; nb < NB; ++nb) acc[i][nb] = _mm512_fmadd_ps(wc[nb], xc, acc[i][nb]);
        }
      }
    }
    #pragma GCC unroll 2
    for (int nb = 0; nb < NB; ++nb) {
      const __m512 s = t.scale(nb, g);
      #pragma GCC unroll 4
      for (int i = 0; i < M; ++i) out[i][nb] = _mm512_fmadd_ps(acc[i][nb], s, out[i][nb]);
    }
  }
  t.store(out, y, y_stride);
}

using TileFn = void (*)(const Activations&, int64_t, const Matrix&, int64_t, float*, int64_t);

template <bool Int4, bool Exact, int NB, int M>
void tile(const Activations& a, int64_t i0, const Matrix& w, int64_t j0, float* y, int64_t y_stride) {
  if constexpr (Exact) {
    tile_f32<Int4, NB, M>(a, i0, w, j0, y, y_stride);
  } else {
    tile_integer<Int4, NB, M>(a, i0, w, j0, y, y_stride);
  }
}

template <bool Int4, bool Exact, int NB>
TileFn pick_m(int64_t m) {
  switch (m) {
    case 1: return tile<Int4, Exact, NB, 1>;
    case 2: return tile<Int4, Exact, NB, 2>;
    case 3: return tile<Int4, Exact, NB, 3>;
    default: return tile<Int4, Exact, NB, 4>;
  }
}

template <bool Int4, bool Exact>
TileFn pick_blocks(int64_t blocks, int64_t m) {
  return blocks == 1 ? pick_m<Int4, Exact, 1>(m) : pick_m<Int4, Exact, 2>(m);
}

TileFn pick_tile(bool int4, bool exact, int64_t blocks, int64_t m) {
  if (int4) return exact ? pick_blocks<true, true>(blocks, m) : pick_blocks<true, false>(blocks, m);
  return exact ? pick_blocks<false, true>(blocks, m) : pick_blocks<false, false>(blocks, m);
}

void matmul_row_blocks(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                       MathMode mode, ThreadPool& pool) {
  const bool int4 = w.quant == Quant::Int4, exact = mode == MathMode::F32;
  Activations a;
  a.x = x;
  a.x_stride = x_stride;
  if (!exact) {
    a.stride = (w.cols + 63) / 64 * 64;
    a.block = activation_block(w);
    a.n_blocks = (w.cols + a.block - 1) / a.block;
    // Scratch of the calling thread, read by all: [m, n_blocks] scales and offsets, then
    // [m, stride] int8 or int16 activations.
    const int64_t value_bytes = int4 ? 1 : 2;
    float* scratch = thread_scratch(1, size_t(2 * m * a.n_blocks + m * a.stride * value_bytes / 4));
    auto* offsets = reinterpret_cast<int32_t*>(scratch + m * a.n_blocks);
    void* q = scratch + 2 * m * a.n_blocks;
    for (int64_t i = 0; i < m; ++i) {
      if (int4) {
        quantize_row_int8(x + i * x_stride, w.cols, a.block, a.stride, static_cast<int8_t*>(q) + i * a.stride,
                          scratch + i * a.n_blocks, offsets + i * a.n_blocks);
      } else {
        quantize_row_int16(x + i * x_stride, w.cols, a.block, activation_levels(w), a.stride,
                           static_cast<int16_t*>(q) + i * a.stride, scratch + i * a.n_blocks);
      }
    }
    a.q = static_cast<const int8_t*>(q);
    a.q16 = static_cast<const int16_t*>(q);
    a.scale = scratch;
    a.offset = offsets;
  }
  constexpr int64_t kTileRows = kBlocksPerTile * kQuantRowBlock;
  for (int64_t pass = 0; pass < m; pass += kRowsPerPass) {
    const int64_t pass_end = pass + kRowsPerPass < m ? pass + kRowsPerPass : m;
    over_row_tiles(pool, w.rows, kTileRows, (pass_end - pass) * w.rows * w.cols, [&](int64_t j, int64_t n_rows) {
      const int64_t blocks = (n_rows + kQuantRowBlock - 1) / kQuantRowBlock;
      for (int64_t i = pass; i < pass_end; i += kMTile) {
        const int64_t n_m = pass_end - i < kMTile ? pass_end - i : kMTile;
        pick_tile(int4, exact, blocks, n_m)(a, i, w, j, y + i * y_stride + j, y_stride);
      }
    });
  }
}

}  // namespace

void matmul_quantized(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                      MathMode mode, ThreadPool& pool) {
  // Integer activation blocks must hold whole steps of 4 (Int8) or 8 (Int4) columns.
  const bool blocks_fit = mode == MathMode::F32 || activation_block(w) % (w.quant == Quant::Int4 ? 8 : 4) == 0;
  if (w.layout == QuantLayout::RowBlocks && blocks_fit) return matmul_row_blocks(x, m, x_stride, w, y, y_stride, mode, pool);
  reference::matmul_quantized(x, m, x_stride, w, y, y_stride, mode, pool);
}

}  // namespace bamba::kernels::avx512vnni

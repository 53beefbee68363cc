// matmul for AMX-BF16 in MathMode::BF16 with bf16 weights: activations rounded to bf16 once
// (row-major, K padded to 32: each 16-row slice is an A tile as it stands), weight panels
// packed per thread into B tiles (bf16_gemm.inc), and blocks of 32 rows × 32 columns held in
// four C tiles over the whole K. Threads split the output columns. MathMode::F32, other
// weight dtypes and m below kMinPackedRows (batched decoding) go to the AVX512-BF16 kernel,
// which streams the weights for those.
//
// GCC 12's _tile_loadconfig() tells the compiler it reads only 8 bytes, so the stores that
// fill the config may be dropped: the config is loaded with an explicit asm that reads all
// 64 bytes. AMX state is per thread: each thread loads the config and releases the tiles.
#include <immintrin.h>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/variants.h"

namespace bamba::kernels::amx {
namespace {

#include "kernels/cpu/bf16_gemm.inc"

constexpr int64_t kTileRows = 16;   // rows of every tile (A: activation rows, B: k pairs)
constexpr int64_t kBlockRows = 32;  // activation rows per block: two A tiles
constexpr int64_t kBlockCols = 32;  // output columns per block: two B tiles (two packed panels)

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];  // bytes per row of each tile
  uint8_t rows[16];    // rows of each tile
};

// Tiles 0-3: C (C[a][b] is tile 2a + b), 4-5: A, 6-7: B; all 16 rows × 64 bytes.
void load_tile_config() {
  TileConfig config{};
  config.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = uint8_t(kTileRows);
    config.colsb[t] = 64;
  }
  asm volatile("ldtilecfg %0" ::"m"(config) : "memory");
}

// c_block[0 .. 16·A_TILES, 0 .. 32) = xa[0 .. 16·A_TILES, :] · (two packed panels)^T.
// xa: bf16 rows of k_pad; packed: two panels of [k_pad / 2, 16] pairs; c_block: [32, 32] f32.
template <int A_TILES>
void block(const uint16_t* xa, int64_t k_pad, const uint32_t* packed, float* c_block) {
  const int64_t a_stride = k_pad * int64_t(sizeof(uint16_t));  // bytes between activation rows
  const uint32_t* packed1 = packed + (k_pad / 2) * kPanel;
  _tile_zero(0);
  _tile_zero(1);
  if constexpr (A_TILES == 2) {
    _tile_zero(2);
    _tile_zero(3);
  }
  for (int64_t k = 0; k < k_pad; k += kKStep) {
    _tile_loadd(6, packed + (k / 2) * kPanel, 64);
    _tile_loadd(7, packed1 + (k / 2) * kPanel, 64);
    _tile_loadd(4, xa + k, a_stride);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    if constexpr (A_TILES == 2) {
      _tile_loadd(5, xa + kTileRows * k_pad + k, a_stride);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  constexpr int64_t c_stride = kBlockCols * int64_t(sizeof(float));
  _tile_stored(0, c_block, c_stride);
  _tile_stored(1, c_block + kPanel, c_stride);
  if constexpr (A_TILES == 2) {
    _tile_stored(2, c_block + kTileRows * kBlockCols, c_stride);
    _tile_stored(3, c_block + kTileRows * kBlockCols + kPanel, c_stride);
  }
}

void matmul_bf16(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride,
                 ThreadPool& pool) {
  const int64_t k_len = w.cols, k_pad = round_up(k_len, kKStep), m_pad = round_up(m, kTileRows);
  // Zero rows up to a whole tile, so that A tile loads stay inside the buffer.
  uint16_t* xa = reinterpret_cast<uint16_t*>(thread_scratch(0, size_t(m_pad * k_pad / 2)));
  convert_activations(x, m, x_stride, k_len, xa, m_pad, k_pad, pool);
  const auto* weights = static_cast<const uint16_t*>(w.data);
  const int64_t n_blocks = (w.rows + kBlockCols - 1) / kBlockCols;
  parallel_ranges(pool, n_blocks, [&](int64_t block_begin, int64_t block_end) {
    float* scratch = thread_scratch(1, size_t(k_pad * kPanel + kBlockRows * kBlockCols));
    uint32_t* packed = reinterpret_cast<uint32_t*>(scratch);  // two panels: [2, k_pad / 2, 16]
    float* c_block = scratch + k_pad * kPanel;                // [32, 32]
    load_tile_config();
    for (int64_t b = block_begin; b < block_end; ++b) {
      const int64_t j0 = b * kBlockCols, n_cols = min64(kBlockCols, w.rows - j0);
      pack_panel(weights, w.rows, k_len, j0, k_pad, packed);
      pack_panel(weights, w.rows, k_len, j0 + kPanel, k_pad, packed + (k_pad / 2) * kPanel);
      for (int64_t i = 0; i < m; i += kBlockRows) {
        const int64_t rows = min64(kBlockRows, m - i);
        if (rows > kTileRows) {
          block<2>(xa + i * k_pad, k_pad, packed, c_block);
        } else {
          block<1>(xa + i * k_pad, k_pad, packed, c_block);
        }
        store_block(c_block, kBlockCols, rows, n_cols, y, y_stride, i, j0);
      }
    }
    _tile_release();
  });
}

}  // namespace

void matmul(const float* x, int64_t m, int64_t x_stride, const Matrix& w, float* y, int64_t y_stride, MathMode mode,
            ThreadPool& pool) {
  if (mode != MathMode::BF16 || w.dtype != DType::BF16 || m < kMinPackedRows) {
    return avx512bf16::matmul(x, m, x_stride, w, y, y_stride, mode, pool);
  }
  matmul_bf16(x, m, x_stride, w, y, y_stride, pool);
}

}  // namespace bamba::kernels::amx

// The layouts of quantized matrices (ops.h QuantLayout): where q[row, col] and its scale live,
// and the in-place change from the checkpoints' RowMajor order to RowBlocks.
#pragma once

#include <cstdint>

#include "kernels/ops.h"

namespace bamba::kernels {

namespace detail {
// Rows in row block `block` of w: kQuantRowBlock, fewer in a last block.
inline int64_t rows_in_block(const Matrix& w, int64_t block) {
  const int64_t left = w.rows - block * kQuantRowBlock;
  return left < kQuantRowBlock ? left : kQuantRowBlock;
}

// Byte of q[row, col] and, for Int4, whether it is the high nibble.
struct QuantByte {
  int64_t index;
  bool high;
};

inline QuantByte quantized_byte(const Matrix& w, int64_t row, int64_t col) {
  if (w.layout == QuantLayout::RowMajor) {
    const int64_t i = row * w.cols + col;
    return w.quant == Quant::Int8 ? QuantByte{i, false} : QuantByte{i / 2, i % 2 == 1};
  }
  const int64_t block = row / kQuantRowBlock, r = row % kQuantRowBlock, block_rows = rows_in_block(w, block);
  if (w.quant == Quant::Int8) return {block * kQuantRowBlock * w.cols + col / 4 * 4 * block_rows + 4 * r + col % 4, false};
  return {block * kQuantRowBlock * w.cols / 2 + col / 8 * 4 * block_rows + 4 * r + col % 4, col % 8 >= 4};
}
}  // namespace detail

// q[row, col] of an Int8 or Int4 matrix, in [-128, 127] or [-8, 7].
inline int32_t quantized_value(const Matrix& w, int64_t row, int64_t col) {
  const detail::QuantByte at = detail::quantized_byte(w, row, col);
  if (w.quant == Quant::Int8) return static_cast<const int8_t*>(w.data)[at.index];
  const uint8_t byte = static_cast<const uint8_t*>(w.data)[at.index];
  return int32_t(at.high ? byte >> 4 : byte & 0x0f) - 8;
}

// The scale of w[row, col].
inline float quantized_scale(const Matrix& w, int64_t row, int64_t col) {
  const int64_t groups = w.cols / w.group_size, g = col / w.group_size;
  if (w.layout == QuantLayout::RowMajor) return w.scales[row * groups + g];
  const int64_t block = row / kQuantRowBlock;
  return w.scales[block * kQuantRowBlock * groups + g * detail::rows_in_block(w, block) + row % kQuantRowBlock];
}

// Whether a RowMajor quantized matrix can be put in RowBlocks: its columns and groups must
// split into the 4 (Int8) or 8 (Int4) columns of a block step.
[[nodiscard]] bool can_block_rows(const Matrix& w);

// Reorders w's values and scales into RowBlocks in place and returns the matrix that reads
// them. `values` and `scales` are w.data and w.scales, writable. Needs can_block_rows(w).
[[nodiscard]] Matrix block_rows_in_place(const Matrix& w, void* values, float* scales);

}  // namespace bamba::kernels

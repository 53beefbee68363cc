// RowMajor → RowBlocks, one block of kQuantRowBlock rows at a time through a copy of that
// block, so a model's weights are reordered without a second copy of the model.
#include "kernels/quant_layout.h"

#include <cstring>
#include <vector>

#include "base/error.h"

namespace bamba::kernels {

bool can_block_rows(const Matrix& w) {
  const int64_t step = w.quant == Quant::Int8 ? 4 : 8;
  return w.quant != Quant::None && w.layout == QuantLayout::RowMajor && w.cols % step == 0 &&
         w.group_size % step == 0;
}

Matrix block_rows_in_place(const Matrix& w, void* values, float* scales) {
  if (!can_block_rows(w) || values != w.data || scales != w.scales) {
    fail("block_rows_in_place: quantized weight [", w.rows, ", ", w.cols, "] (group ", w.group_size,
         ") cannot be reordered into row blocks");
  }
  const bool int4 = w.quant == Quant::Int4;
  const int64_t row_bytes = int4 ? w.cols / 2 : w.cols;
  const int64_t groups = w.cols / w.group_size;
  Matrix blocked = w;
  blocked.layout = QuantLayout::RowBlocks;
  auto* bytes = static_cast<uint8_t*>(values);
  std::vector<uint8_t> block_values(size_t(kQuantRowBlock * row_bytes));  // [R, row_bytes], row-major
  std::vector<float> block_scales(size_t(kQuantRowBlock * groups));       // [R, groups]
  for (int64_t row0 = 0; row0 < w.rows; row0 += kQuantRowBlock) {
    const int64_t R = detail::rows_in_block(w, row0 / kQuantRowBlock);
    std::memcpy(block_values.data(), bytes + row0 * row_bytes, size_t(R * row_bytes));
    std::memcpy(block_scales.data(), scales + row0 * groups, size_t(R * groups) * sizeof(float));
    // Written in order, each step gathering its 4 bytes from every row of the copy.
    uint8_t* dst = bytes + row0 * row_bytes;  // [steps, R, 4]
    for (int64_t step = 0; step < row_bytes / 4; ++step) {
      for (int64_t r = 0; r < R; ++r, dst += 4) {
        uint32_t word = 0;
        std::memcpy(&word, block_values.data() + r * row_bytes + 4 * step, 4);
        if (int4) {
          // Eight columns k0.. arrive as pairs (k0 + 2i, k0 + 2i + 1) in byte i — column c's
          // nibble at bit 4c of the little-endian word — and leave as (k0 + t, k0 + 4 + t) in
          // byte t: column c at bit 8c (c < 4) or 8(c - 4) + 4.
          uint32_t out = 0;
          for (int c = 0; c < 8; ++c) out |= ((word >> (4 * c)) & 0x0fu) << (c < 4 ? 8 * c : 8 * (c - 4) + 4);
          word = out;
        }
        std::memcpy(dst, &word, 4);
      }
    }
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t g = 0; g < groups; ++g) scales[row0 * groups + g * R + r] = block_scales[size_t(r * groups + g)];
    }
  }
  return blocked;
}

}  // namespace bamba::kernels

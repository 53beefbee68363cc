// Quantizing float weights: the math of each format (int8 symmetric per channel or per
// group; int4 symmetric per group with a searched scale, packed 8 per int32 word), rounded to
// nearest or, given calibration tokens, by GPTQ (model/gptq.h), and
// `quantize_checkpoint`, which streams a float checkpoint folder into a quantized one tensor
// by tensor, so that a model larger than memory can be converted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "io/safetensors.h"
#include "model/config.h"
#include "model/gptq.h"
#include "model/quant_config.h"

namespace bamba {

// The int4 group size used when none is given: 64 is the smallest group the SIMD kernel
// unpacks whole; on the tiny goldens it keeps quality near groups of 32 (logits rms error
// 0.32 vs 0.28 of tiny-a's) while the 1B shape's weights stay at 28 % of bf16 (32: 31 %).
inline constexpr int64_t kDefaultInt4GroupSize = 64;

// The embeddings and lm_head take scales per group of this many columns unless told otherwise
// (when it divides their width): the head's rounding moves the logits directly, and on the
// goldens int8 top-1 agreement rises from 95.1 / 94.4 % (per channel) to 96.5 / 96.5 %
// (tiny-a / tiny-b) for an eighth more bytes in those two matrices.
inline constexpr int64_t kDefaultEmbeddingGroupSize = 32;

struct QuantizeOptions {
  WeightFormat format = WeightFormat::Int8;  // Int8 or Int4
  int64_t group_size = 0;                    // 0: per output channel (int8) / kDefaultInt4GroupSize (int4)
  std::vector<std::string> keep;             // weights whose name contains one of these stay float
  // Token sequences the float model reads to calibrate: when given, weights round by GPTQ
  // (model/gptq.h) on the inputs they multiplied, instead of to nearest.
  std::vector<std::vector<int32_t>> calibration;
  // Scales of embed_tokens and lm_head: -1 kDefaultEmbeddingGroupSize (or, when it does not
  // divide their width, those of the other weights), 0 those of the other weights, G > 0 per
  // group of G.
  int64_t embedding_group_size = -1;

  [[nodiscard]] int64_t calibration_tokens() const;
};

// The quantization_config that `options` gives a model of `config`: every Linear weight and
// the embeddings, except those matched by options.keep (listed in `ignore`), in one config
// group, or two when the embeddings and lm_head take other scales. Errors for an unsupported
// format or a group size that does not divide a weight's input width.
[[nodiscard]] QuantConfig make_quant_config(const ModelConfig& config, const QuantizeOptions& options);

// Rows [row_begin, row_end) of a float weight `src` ([rows, cols], F32/F16/BF16) quantized to
// `format` (Int8 or Int4) with the scales of `group`: values into `values` (I8: cols bytes
// per row; Int4: cols/2 bytes per row, element 2i in the low nibble of byte i, stored q + 8)
// and scales into `scales` (group.groups_per_row(cols) per row), both starting at row_begin's
// data. Rows run in parallel. With `gptq`, the factor of the weight's calibration inputs,
// values round by GPTQ with the same scales.
void quantize_rows(const io::TensorInfo& src, int64_t row_begin, int64_t row_end, WeightFormat format,
                   const QuantGroup& group, std::byte* values, float* scales, ThreadPool& pool,
                   const GptqFactor* gptq = nullptr);

// Bytes of the values of one quantized row.
[[nodiscard]] int64_t quantized_row_bytes(WeightFormat format, int64_t cols);

// What a conversion is doing: reading the calibration text (counted in tokens), then
// writing the weights (counted in bytes of the source).
enum class QuantizePhase { Calibrating, Quantizing };

// Called with (phase, done, total) as the conversion advances.
using QuantizeProgress = std::function<void(QuantizePhase phase, int64_t done, int64_t total)>;

// Reads the float checkpoint folder `in_dir` and writes `out_dir`: model.safetensors with the
// quantized weights (compressed-tensors layout, scales F32) and every other tensor copied in
// its stored dtype, config.json with the quantization_config, and the tokenizer and
// generation files copied. Holds at most one tensor's quantized values in memory.
void quantize_checkpoint(const std::filesystem::path& in_dir, const std::filesystem::path& out_dir,
                         const QuantizeOptions& options, ThreadPool& pool, const QuantizeProgress& progress);

}  // namespace bamba

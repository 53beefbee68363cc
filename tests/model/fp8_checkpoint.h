// A generator of checkpoints in IBM's published Bamba fp8 layout (compressed-tensors
// "float-quantized"): every Linear weight but lm_head becomes float8 e4m3fn
// (`<module>.weight`, F8_E4M3) with `<module>.weight_scale`, per output channel ([out, 1]) or
// per tensor ([1] / []), and config.json gets the matching quantization_config with dynamic
// per-token fp8 activations. Embeddings, norms and the Mamba2 vectors stay as they were.
#pragma once

#include <cstdint>
#include <vector>

#include "base/dtype.h"
#include "checkpoint_edit.h"

namespace bamba::testing {

struct Fp8Options {
  bool per_channel = true;                         // strategy "channel"; false: "tensor"
  DType scale_dtype = DType::BF16;                 // BF16 or F32, as the checkpoints ship
  std::vector<int64_t> tensor_scale_shape = {1};   // per tensor: [1] or []
};

// Converts the float checkpoint in `ckpt` in place: scale = max|w| / 448 (rounded to
// scale_dtype), weight = e4m3(w / scale).
void make_fp8_checkpoint(EditableCheckpoint& ckpt, const Fp8Options& options);

// The float model an fp8 checkpoint stands for: each fp8 weight replaced by F32 scale·value,
// the scales and the quantization_config removed.
void dequantize_fp8_checkpoint(EditableCheckpoint& ckpt);

}  // namespace bamba::testing

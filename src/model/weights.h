// The weights of a Bamba model, loaded and checked against the tensor list
// (model/tensor_list.h). Large matrices stay in their stored dtype inside the mapping;
// small vectors are widened to f32 copies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/safetensors.h"
#include "kernels/ops.h"
#include "model/config.h"

namespace bamba {

struct MlpWeights {
  kernels::Matrix gate;  // [I, H]
  kernels::Matrix up;    // [I, H]
  kernels::Matrix down;  // [H, I]
};

struct AttentionWeights {
  kernels::Matrix q;  // [nh*hd, H]
  kernels::Matrix k;  // [nkv*hd, H]
  kernels::Matrix v;  // [nkv*hd, H]
  kernels::Matrix o;  // [H, nh*hd]
};

struct MambaWeights {
  kernels::Matrix in_proj;           // [2E+2GN+mh, H]
  std::vector<float> in_proj_bias;   // [2E+2GN+mh], empty unless mamba_proj_bias
  std::vector<float> conv_weight;    // [conv_dim, d_conv] (stored [conv_dim, 1, d_conv])
  std::vector<float> conv_bias;      // [conv_dim], empty unless mamba_conv_bias
  std::vector<float> dt_bias;        // [mh]
  std::vector<float> A;              // [mh] = -exp(A_log)
  std::vector<float> D;              // [mh]
  std::vector<float> norm;           // [E] gated RMSNorm scale
  kernels::Matrix out_proj;          // [H, E]
  std::vector<float> out_proj_bias;  // [H], empty unless mamba_proj_bias
};

struct LayerWeights {
  LayerKind kind = LayerKind::Mamba2;
  std::vector<float> input_norm;   // [H]
  std::vector<float> pre_ff_norm;  // [H]
  MambaWeights mamba;              // Mamba2 layers
  AttentionWeights attention;      // attention layers
  MlpWeights mlp;                  // every layer
};

struct BambaWeights {
  io::TensorStore store;          // owns the mappings the matrices point into
  // Data made at load instead of mapped: fp8 weights converted to int8, scales widened to f32.
  std::vector<std::vector<int8_t>> converted_values;
  std::vector<std::vector<float>> converted_scales;
  kernels::Matrix embed;          // [V, H]
  kernels::Matrix lm_head;        // [V, H]; = embed when tie_word_embeddings
  std::vector<float> final_norm;  // [H]
  std::vector<LayerWeights> layers;
  int64_t bytes = 0;              // mapped matrices + f32 vectors in use
  std::unordered_map<const void*, std::string> matrix_names;  // each matrix's data -> its tensor name
};

// Checks every tensor of `store` against bamba_stored_tensor_list(config) — missing,
// unexpected, wrongly shaped tensors and wrong dtypes (F32/F16/BF16 for float tensors; the
// quantized parts per config.quant) are Errors naming the file, the tensor, expected vs found
// and the config keys behind the expectation — and binds them. Int8 and int4 weights are
// reordered in place into row blocks (kernels/quant_layout.h; copy-on-write pages of the
// mapping); fp8 weights are converted once to int8 per output channel so
// that the int8 kernels serve them, and their mapped pages are released.
// With tie_word_embeddings a stored lm_head.weight is accepted and ignored (as HF does,
// which ties the head to embed_tokens after loading).
[[nodiscard]] BambaWeights load_bamba_weights(const ModelConfig& config, io::TensorStore store,
                                              const std::filesystem::path& dir);

// Whether kernels::matmul_rows_independent holds for every matrix the forward multiplies by.
[[nodiscard]] bool every_matrix_rows_independent(const BambaWeights& w);

// How weights of `quant` are computed with, for `bamba info`.
[[nodiscard]] std::string weight_compute_description(const QuantConfig& quant);

}  // namespace bamba

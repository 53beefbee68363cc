// Loading Bamba weights: the tensor list decides what must exist and with which shape;
// this file checks the checkpoint against it and binds each tensor to its field.
#include "model/weights.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "base/error.h"
#include "base/fp8.h"
#include "kernels/quant_layout.h"
#include "model/tensor_list.h"

namespace bamba {

namespace {

bool is_float_dtype(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Why a tensor the list does not expect might be in the file, for the error message.
std::string unexpected_hint(const ModelConfig& config, const std::string& name) {
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) == 0) {
    const size_t dot = name.find('.', prefix.size());
    const std::string index = name.substr(prefix.size(), dot - prefix.size());
    char* end = nullptr;
    const long long layer = std::strtoll(index.c_str(), &end, 10);
    if (index.empty() || *end != '\0') return "";
    if (layer < 0 || layer >= config.n_layers) {
      return str_cat(" (config key num_hidden_layers = ", config.n_layers, ")");
    }
    const bool attention = config.layer_kinds[size_t(layer)] == LayerKind::Attention;
    if (name.find(".mamba.in_proj.bias") != std::string::npos ||
        name.find(".mamba.out_proj.bias") != std::string::npos) {
      if (!attention) return " (config key mamba_proj_bias is false)";
    }
    if (name.find(".mamba.conv1d.bias") != std::string::npos && !attention) {
      return " (config key mamba_conv_bias is false)";
    }
    return str_cat(" (layer ", layer, " is ", attention ? "an attention" : "a Mamba2",
                   " layer per config key attn_layer_indices)");
  }
  return "";
}

kernels::Matrix as_matrix(const io::TensorInfo& t) {
  return {t.data, t.dtype, t.shape[0], t.numel() / t.shape[0]};
}

// A small tensor widened to f32: the embedding gather of row 0 of a [1, numel] table.
std::vector<float> widen(const io::TensorInfo& t) {
  std::vector<float> out(size_t(t.numel()));
  const int32_t row0 = 0;
  kernels::embedding_rows({t.data, t.dtype, 1, t.numel()}, &row0, 1, out.data());
  return out;
}

// The stored dtype a part of a quantized weight must have.
bool part_dtype_ok(TensorPart part, DType t, WeightFormat format) {
  switch (part) {
    case TensorPart::Whole:
    case TensorPart::QuantScale: return is_float_dtype(t);
    case TensorPart::PackedShape: return t == DType::I32 || t == DType::I64;
    case TensorPart::QuantValues:
      return t == (format == WeightFormat::Int8 ? DType::I8 : format == WeightFormat::Fp8 ? DType::F8_E4M3 : DType::I32);
  }
  return false;
}

std::string expected_dtype(TensorPart part, WeightFormat format) {
  switch (part) {
    case TensorPart::Whole:
    case TensorPart::QuantScale: return "F32, F16 or BF16";
    case TensorPart::PackedShape: return "I32 or I64";
    case TensorPart::QuantValues:
      return format == WeightFormat::Int8 ? "I8" : format == WeightFormat::Fp8 ? "F8_E4M3" : "I32";
  }
  return "";
}

// Finds one stored tensor and checks its shape and dtype against the list (`group`: the
// config group of a quantized weight's parts).
const io::TensorInfo& checked_tensor(const io::TensorStore& store, const TensorSpec& part, const QuantConfig& quant,
                                     const QuantGroup* group, const std::filesystem::path& dir) {
  const io::TensorInfo* t = store.find(part.name);
  const bool quant_part = part.part != TensorPart::Whole;
  if (!t) {
    fail(dir.string(), ": tensor '", part.name, "' ", shape_string(part.shape), " is missing from the checkpoint (",
         quant_part ? str_cat("quantization_config: ", quant.describe()) : str_cat("expected from config keys: ", part.implied_by),
         ")");
  }
  // A per-tensor scale may be stored as [1], [] or any other one-element shape.
  const bool one_element_scale = part.part == TensorPart::QuantScale && group->strategy == ScaleStrategy::Tensor;
  if (one_element_scale ? t->numel() != 1 : t->shape != part.shape) {
    fail(t->file.string(), ": tensor '", part.name, "': expected shape ", shape_string(part.shape),
         one_element_scale ? " (one element, strategy \"tensor\")" : "",
         quant_part ? str_cat(" (quantization_config: ", quant.describe(), ", weight ", shape_string(part.shape), ")")
                    : str_cat(" (from config keys: ", part.implied_by, ")"),
         ", found ", shape_string(t->shape));
  }
  if (!part_dtype_ok(part.part, t->dtype, quant.format)) {
    fail(t->file.string(), ": tensor '", part.name, "': expected dtype ", expected_dtype(part.part, quant.format),
         quant_part ? str_cat(" (quantization_config: ", quant.describe(), ")") : "", ", found ", dtype_name(t->dtype),
         !quant_part && !is_float_dtype(t->dtype) && !quant.quantized() ? " (config.json has no quantization_config)" : "");
  }
  return *t;
}

// Scales as f32 [rows, groups_per_row], writable: in place when stored so, else a widened copy
// (a per-tensor scale repeated for every row).
float* bind_scales(BambaWeights& w, const io::TensorInfo& t, int64_t rows, const QuantGroup& scheme) {
  const bool in_place = t.dtype == DType::F32 && scheme.strategy != ScaleStrategy::Tensor &&
                        reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0;
  if (in_place) {
    w.bytes += int64_t(t.nbytes);
    return reinterpret_cast<float*>(w.store.writable(t));
  }
  std::vector<float> scales = widen(t);
  if (scheme.strategy == ScaleStrategy::Tensor) scales.assign(size_t(rows), scales[0]);
  for (float s : scales) {
    if (!std::isfinite(s)) fail(t.file.string(), ": tensor '", t.name, "' holds a non-finite scale ", s);
  }
  w.bytes += int64_t(scales.size() * sizeof(float));
  w.converted_scales.push_back(std::move(scales));
  return w.converted_scales.back().data();
}

// A quantized matrix reordered into RowBlocks where its shape allows, in place: the layout
// the integer dot-product kernels stream (kernels/quant_layout.h). `values()` gives the
// writable memory of m's values, asked for only when they are reordered (for mapped values
// it makes their pages copy-on-write).
template <class Values>
kernels::Matrix in_row_blocks(const kernels::Matrix& m, const Values& values, float* scales) {
  return kernels::can_block_rows(m) ? kernels::block_rows_in_place(m, values(), scales) : m;
}

// fp8 e4m3 values times their scales (`scale_stride` apart per row: 1 per channel, 0 per
// tensor), requantized to int8 per output row (scale max|w|/127).
kernels::Matrix convert_fp8(BambaWeights& w, const io::TensorInfo& t, const io::TensorInfo& scale_tensor) {
  const int64_t rows = t.shape[0], cols = t.shape[1];
  const std::vector<float> fp8_scales = widen(scale_tensor);
  for (float s : fp8_scales) {
    if (!std::isfinite(s)) fail(scale_tensor.file.string(), ": tensor '", scale_tensor.name, "' holds a non-finite scale ", s);
  }
  const int64_t scale_stride = fp8_scales.size() == 1 ? 0 : 1;
  float decode[256];
  for (int b = 0; b < 256; ++b) decode[b] = f8e4m3_to_f32(f8e4m3_t(b));
  const auto* in = reinterpret_cast<const uint8_t*>(t.data);
  std::vector<int8_t> values(static_cast<size_t>(rows * cols));
  std::vector<float> scales(static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    float amax = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const uint8_t b = in[r * cols + c];
      if ((b & 0x7f) == 0x7f) fail(t.file.string(), ": tensor '", t.name, "' holds an fp8 NaN at [", r, ", ", c, "]");
      row[size_t(c)] = decode[b] * fp8_scales[size_t(r * scale_stride)];
      amax = std::max(amax, std::fabs(row[size_t(c)]));
    }
    const float inv = amax > 0 ? 127.0f / amax : 0.0f;
    for (int64_t c = 0; c < cols; ++c) values[size_t(r * cols + c)] = int8_t(std::nearbyint(row[size_t(c)] * inv));
    scales[size_t(r)] = amax / 127.0f;
  }
  w.store.release_pages(t);
  w.bytes += int64_t(values.size() + scales.size() * sizeof(float));
  w.converted_values.push_back(std::move(values));
  w.converted_scales.push_back(std::move(scales));
  return in_row_blocks({w.converted_values.back().data(), DType::I8, rows, cols, kernels::Quant::Int8,
                        w.converted_scales.back().data(), cols},
                       [&] { return w.converted_values.back().data(); }, w.converted_scales.back().data());
}

// The matrix of a quantized weight from its stored parts (values, scale[, shape]).
kernels::Matrix bind_quantized(BambaWeights& w, const TensorSpec& spec, const std::vector<const io::TensorInfo*>& parts,
                               const QuantConfig& quant, const QuantGroup& scheme) {
  const int64_t rows = spec.shape[0], cols = spec.shape[1];
  const io::TensorInfo& values = *parts[0];
  const io::TensorInfo& scale = *parts[1];
  if (quant.format == WeightFormat::Fp8) return convert_fp8(w, values, scale);
  float* scales = bind_scales(w, scale, rows, scheme);
  const int64_t group = cols / scheme.groups_per_row(cols);
  switch (quant.format) {
    case WeightFormat::Int8:
      w.bytes += int64_t(values.nbytes);
      return in_row_blocks({values.data, DType::I8, rows, cols, kernels::Quant::Int8, scales, group},
                           [&] { return w.store.writable(values); }, scales);
    case WeightFormat::Int4: {
      const io::TensorInfo& shape = *parts[2];
      const auto dim = [&](int i) {
        return shape.dtype == DType::I64 ? reinterpret_cast<const int64_t*>(shape.data)[i]
                                         : int64_t(reinterpret_cast<const int32_t*>(shape.data)[i]);
      };
      if (dim(0) != rows || dim(1) != cols) {
        fail(shape.file.string(), ": tensor '", shape.name, "' says [", dim(0), ", ", dim(1), "], expected ",
             shape_string(spec.shape));
      }
      if (group % 2 != 0) fail(values.file.string(), ": tensor '", values.name, "': int4 groups must be even, found ", group);
      w.bytes += int64_t(values.nbytes);
      return in_row_blocks({values.data, DType::U8, rows, cols, kernels::Quant::Int4, scales, group},
                           [&] { return w.store.writable(values); }, scales);
    }
    case WeightFormat::Fp8:
    case WeightFormat::Float: break;
  }
  fail("internal: '", spec.name, "' is not quantized");
}

// The field a tensor of the list is bound to.
struct Binding {
  kernels::Matrix* matrix = nullptr;
  std::vector<float>* vector = nullptr;
};

Binding bind(BambaWeights& w, const TensorSpec& spec) {
  if (spec.layer < 0) {
    switch (spec.role) {
      case TensorRole::Embedding: return {&w.embed, nullptr};
      case TensorRole::LmHead: return {&w.lm_head, nullptr};
      case TensorRole::FinalNorm: return {nullptr, &w.final_norm};
      default: break;
    }
  }
  LayerWeights& l = w.layers[size_t(spec.layer)];
  switch (spec.role) {
    case TensorRole::InputNorm: return {nullptr, &l.input_norm};
    case TensorRole::PreFfNorm: return {nullptr, &l.pre_ff_norm};
    case TensorRole::MlpGate: return {&l.mlp.gate, nullptr};
    case TensorRole::MlpUp: return {&l.mlp.up, nullptr};
    case TensorRole::MlpDown: return {&l.mlp.down, nullptr};
    case TensorRole::AttnQ: return {&l.attention.q, nullptr};
    case TensorRole::AttnK: return {&l.attention.k, nullptr};
    case TensorRole::AttnV: return {&l.attention.v, nullptr};
    case TensorRole::AttnO: return {&l.attention.o, nullptr};
    case TensorRole::MambaInProj: return {&l.mamba.in_proj, nullptr};
    case TensorRole::MambaInProjBias: return {nullptr, &l.mamba.in_proj_bias};
    case TensorRole::MambaConvWeight: return {nullptr, &l.mamba.conv_weight};
    case TensorRole::MambaConvBias: return {nullptr, &l.mamba.conv_bias};
    case TensorRole::MambaDtBias: return {nullptr, &l.mamba.dt_bias};
    case TensorRole::MambaALog: return {nullptr, &l.mamba.A};
    case TensorRole::MambaD: return {nullptr, &l.mamba.D};
    case TensorRole::MambaNorm: return {nullptr, &l.mamba.norm};
    case TensorRole::MambaOutProj: return {&l.mamba.out_proj, nullptr};
    case TensorRole::MambaOutProjBias: return {nullptr, &l.mamba.out_proj_bias};
    default: break;
  }
  fail("internal: tensor role of '", spec.name, "' has no binding");
}

}  // namespace

BambaWeights load_bamba_weights(const ModelConfig& config, io::TensorStore store,
                                const std::filesystem::path& dir) {
  BambaWeights w;
  w.store = std::move(store);
  w.layers.resize(size_t(config.n_layers));
  for (int64_t i = 0; i < config.n_layers; ++i) w.layers[size_t(i)].kind = config.layer_kinds[size_t(i)];

  std::set<std::string, std::less<>> expected;
  for (const TensorSpec& spec : bamba_tensor_list(config)) {
    std::vector<TensorSpec> parts;
    try {
      parts = stored_tensors(spec, config.quant);
    } catch (const Error& e) {
      fail(dir.string(), ": ", e.what());
    }
    const QuantGroup* group = quant_group(spec, config.quant);
    std::vector<const io::TensorInfo*> found;
    for (const TensorSpec& part : parts) {
      expected.insert(part.name);
      found.push_back(&checked_tensor(w.store, part, config.quant, group, dir));
    }
    const Binding b = bind(w, spec);
    if (parts.size() > 1) {
      *b.matrix = bind_quantized(w, spec, found, config.quant, *group);
    } else if (spec.keep == TensorKeep::Mapped) {
      *b.matrix = as_matrix(*found[0]);
      w.bytes += int64_t(found[0]->nbytes);
    }
    if (b.matrix) {
      w.matrix_names[b.matrix->data] = spec.name;
    } else {
      *b.vector = widen(*found[0]);
      w.bytes += spec.numel() * int64_t(sizeof(float));
    }
  }
  for (const std::string& name : w.store.names()) {
    if (expected.count(name)) continue;
    if (name == "lm_head.weight" && config.tie_word_embeddings) {
      // HF ties lm_head to embed_tokens after loading, so a stored copy is never used.
      continue;
    }
    const io::TensorInfo* t = w.store.find(name);
    std::string hint = unexpected_hint(config, name);
    if (hint.empty() && (name.ends_with(".weight_scale") || name.ends_with(".weight_packed"))) {
      hint = config.quant.quantized() ? str_cat(" (quantization_config: ", config.quant.describe(), " leaves it float)")
                                      : " (a quantized weight, but config.json has no quantization_config)";
    }
    fail(t->file.string(), ": unexpected tensor '", name, "' ", shape_string(t->shape),
         " (not part of a Bamba model with ", config.source, ")", hint);
  }
  if (config.tie_word_embeddings) w.lm_head = w.embed;

  // A = -exp(A_log), once, in f32.
  for (LayerWeights& layer : w.layers) {
    for (float& a : layer.mamba.A) a = -std::exp(a);
  }
  return w;
}

bool every_matrix_rows_independent(const BambaWeights& w) {
  std::vector<const kernels::Matrix*> matrices = {&w.lm_head};
  for (const LayerWeights& l : w.layers) {
    for (const kernels::Matrix* m : {&l.mlp.gate, &l.mlp.up, &l.mlp.down}) matrices.push_back(m);
    if (l.kind == LayerKind::Attention) {
      for (const kernels::Matrix* m : {&l.attention.q, &l.attention.k, &l.attention.v, &l.attention.o}) matrices.push_back(m);
    } else {
      for (const kernels::Matrix* m : {&l.mamba.in_proj, &l.mamba.out_proj}) matrices.push_back(m);
    }
  }
  return std::all_of(matrices.begin(), matrices.end(), [](const kernels::Matrix* m) { return kernels::matmul_rows_independent(*m); });
}

std::string weight_compute_description(const QuantConfig& quant) {
  switch (quant.format) {
    case WeightFormat::Float: return "float weights as stored";
    case WeightFormat::Int8:
      return "reordered in place at load into blocks of 16 rows; matmuls quantize activations to int16 per 256 "
             "columns (integer dot products: AVX512-VNNI, else AVX2), exact dequantization with --precision f32";
    case WeightFormat::Int4:
      return "reordered in place at load into blocks of 16 rows; matmuls quantize activations to int8 per 32 "
             "columns (integer dot products: AVX512-VNNI, else AVX2), exact dequantization with --precision f32";
    case WeightFormat::Fp8:
      return "fp8 converted once at load to int8 per output channel; matmuls quantize activations to int16 per 256 "
             "columns (integer dot products: AVX512-VNNI, else AVX2)";
  }
  return "";
}

}  // namespace bamba

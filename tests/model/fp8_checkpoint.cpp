// The fp8 checkpoint generator (see fp8_checkpoint.h).
#include "fp8_checkpoint.h"

#include <cmath>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/fp8.h"
#include "base/half.h"

namespace bamba::testing {
namespace {

// Linear modules of a Bamba checkpoint, by the end of their weight's name.
bool is_linear_weight(const std::string& name) {
  for (const char* suffix : {"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight", "gate_proj.weight",
                             "up_proj.weight", "down_proj.weight", "in_proj.weight", "out_proj.weight"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

std::vector<float> values_of(const EditableTensor& t) {
  const size_t n = t.bytes.size() / dtype_size(t.dtype);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (t.dtype == DType::F32) {
      std::memcpy(&out[i], t.bytes.data() + 4 * i, 4);
    } else if (t.dtype == DType::BF16) {
      bf16_t h;
      std::memcpy(&h, t.bytes.data() + 2 * i, 2);
      out[i] = bf16_to_f32(h);
    } else {
      fail("fp8 generator: tensor ", t.name, " is ", dtype_name(t.dtype), ", expected F32 or BF16");
    }
  }
  return out;
}

// A scale stored in `dtype`, and the value it holds.
float stored_scale(float s, DType dtype, std::vector<std::byte>& out) {
  if (dtype == DType::BF16) {
    const bf16_t h = f32_to_bf16(s);
    const auto* p = reinterpret_cast<const std::byte*>(&h);
    out.insert(out.end(), p, p + 2);
    return bf16_to_f32(h);
  }
  const auto* p = reinterpret_cast<const std::byte*>(&s);
  out.insert(out.end(), p, p + 4);
  return s;
}

float scale_value(const EditableTensor& t, size_t i) {
  if (t.dtype == DType::BF16) {
    bf16_t h;
    std::memcpy(&h, t.bytes.data() + 2 * i, 2);
    return bf16_to_f32(h);
  }
  float f;
  std::memcpy(&f, t.bytes.data() + 4 * i, 4);
  return f;
}

}  // namespace

void make_fp8_checkpoint(EditableCheckpoint& ckpt, const Fp8Options& options) {
  std::vector<EditableTensor> scales;
  for (EditableTensor& t : ckpt.tensors()) {
    if (!is_linear_weight(t.name)) continue;
    const std::vector<float> w = values_of(t);
    const int64_t rows = t.shape[0], cols = t.shape[1];
    const int64_t n_scales = options.per_channel ? rows : 1, span = options.per_channel ? cols : rows * cols;
    EditableTensor scale{t.name + "_scale", options.scale_dtype,
                         options.per_channel ? std::vector<int64_t>{rows, 1} : options.tensor_scale_shape, {}};
    std::vector<std::byte> fp8(w.size());
    for (int64_t s = 0; s < n_scales; ++s) {
      float amax = 0;
      for (int64_t k = s * span; k < (s + 1) * span; ++k) amax = std::max(amax, std::fabs(w[size_t(k)]));
      const float value = stored_scale(amax > 0 ? amax / 448.0f : 1.0f, options.scale_dtype, scale.bytes);
      for (int64_t k = s * span; k < (s + 1) * span; ++k) fp8[size_t(k)] = std::byte(f32_to_f8e4m3(w[size_t(k)] / value));
    }
    t.dtype = DType::F8_E4M3;
    t.bytes = std::move(fp8);
    scales.push_back(std::move(scale));
  }
  for (EditableTensor& s : scales) ckpt.tensors().push_back(std::move(s));
  ckpt.config()["quantization_config"] = {
      {"quant_method", "compressed-tensors"},
      {"format", "float-quantized"},
      {"config_groups",
       {{"group_0",
         {{"targets", {"Linear"}},
          {"weights",
           {{"num_bits", 8}, {"type", "float"}, {"strategy", options.per_channel ? "channel" : "tensor"},
            {"symmetric", true}, {"dynamic", false}}},
          {"input_activations",
           {{"num_bits", 8}, {"type", "float"}, {"strategy", "token"}, {"dynamic", true}, {"symmetric", true}}}}}}},
      {"ignore", {"lm_head"}}};
}

void dequantize_fp8_checkpoint(EditableCheckpoint& ckpt) {
  std::vector<std::string> scale_names;
  for (EditableTensor& t : ckpt.tensors()) {
    if (t.dtype != DType::F8_E4M3) continue;
    const EditableTensor& scale = ckpt.tensor(t.name + "_scale");
    const size_t n_scales = scale.bytes.size() / dtype_size(scale.dtype);
    const size_t span = t.bytes.size() / n_scales;
    std::vector<std::byte> out(t.bytes.size() * 4);
    for (size_t i = 0; i < t.bytes.size(); ++i) {
      const float v = f8e4m3_to_f32(f8e4m3_t(t.bytes[i])) * scale_value(scale, i / span);
      std::memcpy(out.data() + 4 * i, &v, 4);
    }
    t.dtype = DType::F32;
    t.bytes = std::move(out);
    scale_names.push_back(scale.name);
  }
  for (const std::string& name : scale_names) ckpt.drop(name);
  ckpt.config().erase("quantization_config");
}

}  // namespace bamba::testing

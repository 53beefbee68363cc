// Random weights for every tensor of the tensor list, generated in parallel into memory
// that an in-memory TensorStore owns, then bound by the family's ordinary weight loader.
#include "model/synthetic_weights.h"

#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/half.h"
#include "io/safetensors.h"
#include "model/bamba.h"
#include "model/json_fields.h"
#include "model/quantize.h"
#include "model/registry.h"
#include "model/tensor_list.h"

namespace bamba {
namespace {

// splitmix64: a fast generator that any element range can start from its own seed.
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [-1, 1).
float uniform(uint64_t& s) { return float(int64_t(splitmix(s) >> 40) - (int64_t(1) << 23)) * 0x1p-23f; }

// Each element is offset + scale·u, u uniform in [-1, 1).
struct Filler {
  float scale = 0;
  float offset = 0;
};

// Uniform over [lo, hi].
Filler between(float lo, float hi) { return {(hi - lo) / 2, (hi + lo) / 2}; }

// How a tensor of each role is drawn: matrices uniform with variance 1/fan_in (the
// output keeps the input's scale), norms 1, and the Mamba2 constants from HF's init ranges.
Filler filler_for(const TensorSpec& spec) {
  switch (spec.role) {
    case TensorRole::Embedding: return {1.0f, 0};
    case TensorRole::FinalNorm:
    case TensorRole::InputNorm:
    case TensorRole::PreFfNorm:
    case TensorRole::MambaNorm:
    case TensorRole::MambaD: return {0, 1.0f};
    case TensorRole::MambaConvWeight: return {0.5f, 0};
    case TensorRole::MambaConvBias:
    case TensorRole::MambaInProjBias:
    case TensorRole::MambaOutProjBias: return {0.05f, 0};
    // A = -exp(A_log) in [-16, -1]; dt_bias ≈ softplus⁻¹(dt) ≈ log dt for dt in [0.001, 0.1].
    case TensorRole::MambaALog: return between(0, std::log(16.0f));
    case TensorRole::MambaDtBias: return between(std::log(0.001f), std::log(0.1f));
    default: break;
  }
  const int64_t fan_in = spec.shape.back();
  return {std::sqrt(3.0f / float(fan_in)), 0};
}

float draw(const Filler& f, uint64_t& s) { return f.offset + f.scale * uniform(s); }

struct Buffers {
  std::vector<std::unique_ptr<std::byte[]>> blocks;
};

// The stored parts of a quantized weight (tensor_list.h stored_tensors), made from the
// float tensor `src` in blocks of `buffers`.
void add_quantized(const TensorSpec& spec, const io::TensorInfo& src, const QuantConfig& quant,
                   const QuantGroup& group, Buffers& buffers, std::vector<io::TensorInfo>& tensors, ThreadPool& pool) {
  const int64_t rows = spec.shape[0], cols = spec.shape[1];
  const size_t value_bytes = size_t(rows * quantized_row_bytes(quant.format, cols));
  const size_t scale_bytes = size_t(rows * group.groups_per_row(cols)) * sizeof(float);
  buffers.blocks.push_back(std::make_unique_for_overwrite<std::byte[]>(value_bytes));
  std::byte* values = buffers.blocks.back().get();
  buffers.blocks.push_back(std::make_unique_for_overwrite<std::byte[]>(scale_bytes));
  std::byte* scales = buffers.blocks.back().get();
  quantize_rows(src, 0, rows, quant.format, group, values, reinterpret_cast<float*>(scales), pool);
  for (const TensorSpec& part : stored_tensors(spec, quant)) {
    switch (part.part) {
      case TensorPart::QuantValues:
        tensors.push_back({part.name, quant.format == WeightFormat::Int4 ? DType::I32 : DType::I8, part.shape, values,
                           value_bytes, src.file});
        break;
      case TensorPart::QuantScale:
        tensors.push_back({part.name, DType::F32, part.shape, scales, scale_bytes, src.file});
        break;
      case TensorPart::PackedShape: {
        buffers.blocks.push_back(std::make_unique_for_overwrite<std::byte[]>(2 * sizeof(int64_t)));
        auto* shape = reinterpret_cast<int64_t*>(buffers.blocks.back().get());
        shape[0] = rows;
        shape[1] = cols;
        tensors.push_back({part.name, DType::I64, part.shape, buffers.blocks.back().get(), 2 * sizeof(int64_t), src.file});
        break;
      }
      case TensorPart::Whole: break;
    }
  }
}

}  // namespace

std::unique_ptr<Model> make_synthetic_model(const nlohmann::json& config_json, const std::string& source,
                                            DType weight_dtype, const LoadOptions& options, ThreadPool& pool,
                                            uint64_t seed) {
  if (weight_dtype != DType::F32 && weight_dtype != DType::BF16) {
    fail(source, ": synthetic weights must be F32 or BF16, not ", dtype_name(weight_dtype));
  }
  const JsonFields fields(config_json, source);
  const std::optional<std::string> model_type = fields.optional_string("model_type");
  if (!model_type) fail(source, ": key 'model_type' is missing");
  (void)find_model_family(*model_type, source);  // an unknown family is an error naming the known ones
  if (*model_type != "bamba") fail(source, ": synthetic weights exist only for model_type \"bamba\"");
  ModelConfig config = parse_model_config(config_json, source);
  if (config.quant.format == WeightFormat::Fp8) fail(source, ": synthetic weights can be quantized to int8 or int4, not fp8");

  auto buffers = std::make_shared<Buffers>();
  std::vector<io::TensorInfo> tensors;
  const std::vector<TensorSpec> list = bamba_tensor_list(config);
  for (size_t n = 0; n < list.size(); ++n) {
    const TensorSpec& spec = list[n];
    const DType dtype = spec.keep == TensorKeep::Mapped ? weight_dtype : DType::F32;
    const int64_t numel = spec.numel();
    const size_t nbytes = size_t(numel) * dtype_size(dtype);
    std::unique_ptr<std::byte[]> block = std::make_unique_for_overwrite<std::byte[]>(nbytes);
    std::byte* data = block.get();

    // Blocks of 64 Ki elements, each from its own seed: the same weights for any thread count.
    const Filler filler = filler_for(spec);
    constexpr int64_t kBlock = int64_t(1) << 16;
    pool.parallel_for((numel + kBlock - 1) / kBlock, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        uint64_t state = seed * 0x100000001b3ull + uint64_t(n) * 0x9e3779b97f4a7c15ull + uint64_t(b);
        const int64_t first = b * kBlock, last = std::min(numel, first + kBlock);
        if (dtype == DType::BF16) {
          auto* out = reinterpret_cast<bf16_t*>(data);
          for (int64_t i = first; i < last; ++i) out[i] = f32_to_bf16(draw(filler, state));
        } else {
          auto* out = reinterpret_cast<float*>(data);
          for (int64_t i = first; i < last; ++i) out[i] = draw(filler, state);
        }
      }
    });
    if (const QuantGroup* group = quant_group(spec, config.quant)) {
      // Only the quantized parts are kept; the float original is freed with `block`.
      add_quantized(spec, {spec.name, dtype, spec.shape, data, nbytes, source}, config.quant, *group, *buffers, tensors,
                    pool);
    } else {
      tensors.push_back({spec.name, dtype, spec.shape, data, nbytes, source});
      buffers->blocks.push_back(std::move(block));
    }
  }
  io::TensorStore store = io::TensorStore::from_memory(std::move(tensors), std::move(buffers));
  BambaWeights weights = load_bamba_weights(config, std::move(store), source);
  return std::make_unique<BambaModel>(std::move(config), std::move(weights), options);
}

}  // namespace bamba

// Weight quantization (quantize.h). Int8: s = max|w| / 127 over the channel or group,
// q = round(w / s). Int4: for each group the scale that minimises the squared error among
// ±max|w| / {6, 6.5, 7, 7.5, 8} (q clamped to [-8, 7]), then refitted by least squares for
// the chosen q (s = Σ w·q / Σ q²), which never increases the error. With calibration, GPTQ
// then re-rounds the values against those scales.
#include "model/quantize.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/json_file.h"
#include "kernels/ops.h"
#include "model/calibration.h"
#include "model/tensor_list.h"

namespace bamba {

namespace {

// Files of a model folder besides config.json and the weights that a quantized copy keeps.
constexpr const char* kCopiedFiles[] = {"generation_config.json", "tokenizer.json", "tokenizer_config.json",
                                        "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt",
                                        "added_tokens.json", "chat_template.jinja"};

// Rows of a tensor quantized and written per piece: bounds the buffer to a few MB.
constexpr int64_t kRowsPerPiece = 256;

int8_t quantize_int8(float w, float inv_scale) {
  return int8_t(std::clamp(std::nearbyint(w * inv_scale), -127.0f, 127.0f));
}

// One group of int8: scale max|w|/127.
float int8_group(const float* w, int64_t n, int8_t* q) {
  float amax = 0;
  for (int64_t k = 0; k < n; ++k) amax = std::max(amax, std::fabs(w[k]));
  const float inv = amax > 0 ? 127.0f / amax : 0.0f;
  for (int64_t k = 0; k < n; ++k) q[k] = quantize_int8(w[k], inv);
  return amax / 127.0f;
}

int int4_of(float w, float inv_scale) { return int(std::clamp(std::nearbyint(w * inv_scale), -8.0f, 7.0f)); }

// One group of int4 (see the file comment); q in [-8, 7].
float int4_group(const float* w, int64_t n, int8_t* q) {
  float amax = 0;
  for (int64_t k = 0; k < n; ++k) amax = std::max(amax, std::fabs(w[k]));
  if (amax == 0) {
    std::fill(q, q + n, int8_t(0));
    return 0;
  }
  float best_scale = 0;
  double best_err = INFINITY;
  for (float divisor : {6.0f, 6.5f, 7.0f, 7.5f, 8.0f}) {
    for (float sign : {1.0f, -1.0f}) {
      const float scale = sign * amax / divisor;
      const float inv = 1.0f / scale;
      double err = 0;
      for (int64_t k = 0; k < n; ++k) {
        const double d = double(w[k]) - double(scale) * int4_of(w[k], inv);
        err += d * d;
      }
      if (err < best_err) {
        best_err = err;
        best_scale = scale;
      }
    }
  }
  const float inv = 1.0f / best_scale;
  double wq = 0, qq = 0;
  for (int64_t k = 0; k < n; ++k) {
    q[k] = int8_t(int4_of(w[k], inv));
    wq += double(w[k]) * q[k];
    qq += double(q[k]) * q[k];
  }
  return qq > 0 ? float(wq / qq) : best_scale;
}

// The dtype and shape of one stored tensor of the quantized checkpoint.
io::TensorHeader header_of(const TensorSpec& part, const io::TensorInfo& src, const QuantConfig& quant) {
  switch (part.part) {
    case TensorPart::Whole: return {part.name, src.dtype, src.shape};
    case TensorPart::QuantValues:
      return {part.name, quant.format == WeightFormat::Int4 ? DType::I32 : DType::I8, part.shape};
    case TensorPart::QuantScale: return {part.name, DType::F32, part.shape};
    case TensorPart::PackedShape: return {part.name, DType::I64, part.shape};
  }
  fail("internal: unknown tensor part of '", part.name, "'");
}

void copy_model_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) fail("cannot copy ", from.string(), " to ", to.string(), ": ", ec.message());
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) fail(path.string(), ": cannot write");
}

}  // namespace

int64_t QuantizeOptions::calibration_tokens() const {
  int64_t tokens = 0;
  for (const std::vector<int32_t>& seq : calibration) tokens += int64_t(seq.size());
  return tokens;
}

QuantConfig make_quant_config(const ModelConfig& config, const QuantizeOptions& options) {
  if (config.quant.quantized()) {
    fail(config.source, ": the model is already quantized (", config.quant.describe(), ")");
  }
  QuantConfig q;
  q.format = options.format;
  if (q.format != WeightFormat::Int8 && q.format != WeightFormat::Int4) {
    fail("quantize: only int8 and int4 weights can be produced");
  }
  int64_t group = options.group_size;
  if (group == 0 && q.format == WeightFormat::Int4) group = kDefaultInt4GroupSize;
  if (group < 0) fail("quantize: group size must be positive, found ", group);
  if (q.format == WeightFormat::Int4 && group % 2 != 0) fail("quantize: int4 group size must be even, found ", group);
  const auto scheme = [](int64_t g) {
    return QuantGroup{{}, g > 0 ? ScaleStrategy::Group : ScaleStrategy::Channel, g > 0 ? g : 0};
  };
  int64_t embedding_group = options.embedding_group_size;
  if (embedding_group < -1) fail("quantize: embedding group size must be positive, 0 or -1, found ", embedding_group);
  if (embedding_group == -1) {
    embedding_group = config.hidden_size % kDefaultEmbeddingGroupSize == 0 ? kDefaultEmbeddingGroupSize : 0;
  }
  if (embedding_group == 0) embedding_group = group;
  if (q.format == WeightFormat::Int4 && embedding_group % 2 != 0) {
    fail("quantize: int4 embedding group size must be even, found ", embedding_group);
  }
  if (embedding_group == group) {
    q.groups = {scheme(group)};
    q.groups[0].targets = {"Linear", "Embedding"};
  } else {
    // lm_head is a Linear, but a group naming it comes first (quant_config.h).
    q.groups = {scheme(group), scheme(embedding_group)};
    q.groups[0].targets = {"Linear"};
    q.groups[1].targets = {"Embedding", "lm_head"};
  }
  for (const TensorSpec& spec : bamba_tensor_list(config)) {
    if (quant_module_kind(spec.role) == nullptr) continue;
    const bool kept = std::any_of(options.keep.begin(), options.keep.end(),
                                  [&](const std::string& pattern) { return spec.name.find(pattern) != std::string::npos; });
    if (kept) q.ignore.push_back(module_name(spec));
  }
  for (const TensorSpec& spec : bamba_tensor_list(config)) (void)stored_tensors(spec, q);  // group size fits
  return q;
}

int64_t quantized_row_bytes(WeightFormat format, int64_t cols) { return format == WeightFormat::Int4 ? cols / 2 : cols; }

void quantize_rows(const io::TensorInfo& src, int64_t row_begin, int64_t row_end, WeightFormat format,
                   const QuantGroup& scheme, std::byte* values, float* scales, ThreadPool& pool,
                   const GptqFactor* gptq) {
  const int64_t rows = row_end - row_begin, cols = src.shape[1];
  const int64_t groups = scheme.groups_per_row(cols), group = cols / groups;
  const bool int4 = format == WeightFormat::Int4;
  const kernels::Matrix table{src.data, src.dtype, src.shape[0], cols};
  std::vector<int8_t> q(size_t(rows * cols));                        // [rows, cols]
  std::vector<float> widened(gptq ? size_t(rows * cols) : size_t(0));  // [rows, cols] for GPTQ
  pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = begin; r < end; ++r) {
      const int32_t id = int32_t(row_begin + r);
      kernels::embedding_rows(table, &id, 1, row.data());  // the row widened to f32
      for (int64_t g = 0; g < groups; ++g) {
        const float* w = row.data() + g * group;
        int8_t* qg = q.data() + r * cols + g * group;
        scales[r * groups + g] = int4 ? int4_group(w, group, qg) : int8_group(w, group, qg);
      }
      if (gptq) std::copy(row.begin(), row.end(), widened.begin() + r * cols);
    }
  });
  if (gptq) gptq_round_rows(*gptq, widened.data(), rows, scales, group, int4 ? -8 : -127, int4 ? 7 : 127, q.data(), pool);
  pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int8_t* qr = q.data() + r * cols;
      std::byte* out = values + r * quantized_row_bytes(format, cols);
      if (int4) {
        for (int64_t b = 0; b < cols / 2; ++b) out[b] = std::byte(uint8_t((qr[2 * b] + 8) | ((qr[2 * b + 1] + 8) << 4)));
      } else {
        std::memcpy(out, qr, size_t(cols));
      }
    }
  });
}

void quantize_checkpoint(const std::filesystem::path& in_dir, const std::filesystem::path& out_dir,
                         const QuantizeOptions& options, ThreadPool& pool, const QuantizeProgress& progress) {
  std::error_code ec;
  if (std::filesystem::exists(out_dir, ec) && std::filesystem::equivalent(in_dir, out_dir, ec)) {
    fail("quantize: --out ", out_dir.string(), " is the input folder");
  }
  const std::filesystem::path config_path = in_dir / "config.json";
  nlohmann::json config_json = io::read_json_file(config_path);
  ModelConfig config = parse_model_config(config_json, config_path.string());
  config.quant = make_quant_config(config, options);
  if (!options.calibration.empty()) config.quant.gptq = {options.calibration_tokens(), kGptqDampening, true};
  const QuantConfig& quant = config.quant;
  const io::TensorStore store = io::TensorStore::open_dir(in_dir);
  CalibrationInputs calibration;
  if (!options.calibration.empty()) {
    // Only the inputs of weights that GPTQ rounds: quantized ones other than the embeddings,
    // which round to nearest (a looked-up row has no input to calibrate with, and a head tied
    // to them would trade the lookup's accuracy for its own).
    std::set<std::string, std::less<>> rounded;
    for (const TensorSpec& spec : bamba_tensor_list(config)) {
      if (spec.role != TensorRole::Embedding && quant_group(spec, quant)) rounded.insert(spec.name);
    }
    const std::unique_ptr<Model> model = Model::load(in_dir, {});
    calibration = collect_linear_inputs(
        *model, options.calibration, pool, [&](const std::string& name) { return rounded.count(name) > 0; },
        [&](int64_t done, int64_t total) {
          if (progress) progress(QuantizePhase::Calibrating, done, total);
        });
  }
  // The GPTQ factor of the weight whose values are being written (scales are not affected),
  // kept for the next weights that multiply the same inputs (q/k/v, gate/up).
  const LinearInputs* factor_of = nullptr;
  std::optional<GptqFactor> factor;

  // Every stored tensor of the output, with the source tensor it comes from.
  struct Item {
    TensorSpec part;
    const io::TensorInfo* src;
    const QuantGroup* group;  // of a quantized weight's parts
  };
  std::vector<Item> items;
  std::vector<io::TensorHeader> headers;
  int64_t total = 0;
  for (const TensorSpec& spec : bamba_tensor_list(config)) {
    const io::TensorInfo* src = store.find(spec.name);
    if (!src) fail(in_dir.string(), ": tensor '", spec.name, "' ", shape_string(spec.shape), " is missing");
    if (src->shape != spec.shape) {
      fail(src->file.string(), ": tensor '", spec.name, "': expected shape ", shape_string(spec.shape), ", found ",
           shape_string(src->shape));
    }
    if (src->dtype != DType::F32 && src->dtype != DType::F16 && src->dtype != DType::BF16) {
      fail(src->file.string(), ": tensor '", spec.name, "': expected a float dtype to quantize, found ",
           dtype_name(src->dtype));
    }
    total += int64_t(src->nbytes);
    for (TensorSpec& part : stored_tensors(spec, quant)) {
      headers.push_back(header_of(part, *src, quant));
      items.push_back({std::move(part), src, quant_group(spec, quant)});
    }
  }

  std::filesystem::create_directories(out_dir, ec);
  if (ec) fail("quantize: cannot create ", out_dir.string(), ": ", ec.message());
  io::SafetensorsStreamWriter writer(out_dir / "model.safetensors", std::move(headers),
                                     {{"format", "pt"}, {"quantized_by", "bamba quantize"}});
  int64_t done = 0;
  std::vector<std::byte> values;
  std::vector<float> scales;
  for (size_t index : writer.write_order()) {
    const Item& item = items[index];
    const io::TensorInfo& src = *item.src;
    switch (item.part.part) {
      case TensorPart::Whole:
        writer.write(index, {src.data, src.nbytes});
        done += int64_t(src.nbytes);
        break;
      case TensorPart::PackedShape: {
        const int64_t shape[2] = {src.shape[0], src.shape[1]};
        writer.write(index, std::as_bytes(std::span(shape)));
        break;
      }
      case TensorPart::QuantScale:
      case TensorPart::QuantValues: {
        // Scales and values come from the same deterministic pass; each is written when the
        // writer asks for it (scales first: wider dtype), so the pass runs twice per weight.
        const int64_t rows = src.shape[0], cols = src.shape[1];
        const int64_t row_bytes = quantized_row_bytes(quant.format, cols), groups = item.group->groups_per_row(cols);
        const bool want_values = item.part.part == TensorPart::QuantValues;
        const GptqFactor* gptq = nullptr;
        // Calibration holds inputs only for the weights GPTQ rounds.
        const auto inputs = calibration.find(src.name);
        if (want_values && inputs != calibration.end()) {
          const LinearInputs& x = *inputs->second;
          if (factor_of != &x) {
            factor = gptq_factor(x.values.data(), x.rows, x.cols, pool);
            factor_of = &x;
          }
          gptq = &*factor;
        }
        for (int64_t r0 = 0; r0 < rows; r0 += kRowsPerPiece) {
          const int64_t r1 = std::min(rows, r0 + kRowsPerPiece);
          values.resize(size_t((r1 - r0) * row_bytes));
          scales.resize(size_t((r1 - r0) * groups));
          quantize_rows(src, r0, r1, quant.format, *item.group, values.data(), scales.data(), pool, gptq);
          if (want_values) {
            writer.write(index, values);
            done += int64_t(src.nbytes) * (r1 - r0) / rows;
            if (progress) progress(QuantizePhase::Quantizing, done, total);
          } else {
            writer.write(index, std::as_bytes(std::span(scales)));
          }
        }
        break;
      }
    }
    // Its mapped source pages are not needed until the weight's other part (if any) reads
    // them again: resident memory stays near one tensor, whatever the model size.
    if (item.part.part != TensorPart::PackedShape) store.release_pages(src);
    if (progress) progress(QuantizePhase::Quantizing, done, total);
  }
  writer.finish();

  config_json["quantization_config"] = quant_config_json(quant);
  write_text_file(out_dir / "config.json", config_json.dump(2) + "\n");
  for (const char* name : kCopiedFiles) {
    if (std::filesystem::exists(in_dir / name, ec)) copy_model_file(in_dir / name, out_dir / name);
  }
}

}  // namespace bamba

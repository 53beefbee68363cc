// Quantized weights end to end on the tiny checkpoints: `quantize_checkpoint` → Model::load →
// logits against the float64 goldens (int8 top-1 agreement: ≥ 95 % where it measured so,
// see Int8KeepsGoldenTop1), the folder it writes, the fp8 (compressed-tensors float-quantized) generator
// round trip per channel and per tensor, and clear errors for bad quantization configs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "base/error.h"
#include "checkpoint_edit.h"
#include "fp8_checkpoint.h"
#include "golden.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "model/quantize.h"
#include "state/state_cache.h"

namespace bamba::testing {
namespace {

ThreadPool& test_pool() {
  static ThreadPool pool(2);
  return pool;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bamba-quant-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// Logits of a full prefill over the golden prompt of length n: [n, V].
std::vector<float> prefill_logits(Model& model, const Golden& golden, int64_t n) {
  StateCacheOptions options;
  options.kv_block_count = (n + 15) / 16 + 1;
  StateCache cache(model.config(), options);
  const int seq = *cache.acquire();
  Batch batch;
  batch.tokens = golden.ids(n);
  batch.sequences.push_back({seq, 0, n});
  for (int32_t p : golden.logits_positions(n)) batch.logit_rows.push_back(p);
  std::vector<float> logits(batch.logit_rows.size() * size_t(model.config().vocab_size));
  model.forward(batch, cache, logits.data(), test_pool());
  return logits;
}

struct Agreement {
  int64_t rows = 0, same_top1 = 0;
  double rms_rel = 0;  // over every prompt length
  [[nodiscard]] double fraction() const { return double(same_top1) / double(rows); }
};

// Top-1 agreement with the goldens over every prompt length.
Agreement golden_agreement(const std::filesystem::path& dir, const std::string& model_name, kernels::MathMode math) {
  LoadOptions load;
  load.math = math;
  const std::unique_ptr<Model> model = Model::load(dir, load);
  const Golden golden(model_name);
  Agreement a;
  double err2 = 0, ref2 = 0;
  for (int64_t n : golden.lengths()) {
    const std::vector<float> got = prefill_logits(*model, golden, n);
    const std::span<const float> want = golden.logits(n);
    const int64_t V = golden.vocab();
    for (size_t r = 0; r < got.size() / size_t(V); ++r) {
      const std::span<const float> g(got.data() + r * size_t(V), size_t(V)), w(want.data() + r * size_t(V), size_t(V));
      a.same_top1 += argmax(g) == argmax(w);
      ++a.rows;
    }
    for (size_t i = 0; i < got.size(); ++i) {
      err2 += double(got[i] - want[i]) * double(got[i] - want[i]);
      ref2 += double(want[i]) * double(want[i]);
    }
  }
  a.rms_rel = std::sqrt(err2 / ref2);
  return a;
}

void print(const std::string& what, const Agreement& a) {
  std::printf("[ measured ] %s: top-1 agreement %.3f (%lld/%lld), rms_rel %.4f\n", what.c_str(), a.fraction(),
              (long long)a.same_top1, (long long)a.rows, a.rms_rel);
}

std::filesystem::path quantize(const std::string& model, const TempDir& tmp, const QuantizeOptions& options) {
  const std::filesystem::path out = tmp.path() / "q";
  quantize_checkpoint(model_dir(model), out, options, test_pool(), nullptr);
  return out;
}

// Random token sequences (the tiny models' "language"), drawn apart from the goldens' prompts.
std::vector<std::vector<int32_t>> calibration_sequences(int64_t vocab, int count, int64_t length) {
  std::mt19937 rng(20261128);
  std::uniform_int_distribution<int32_t> token(0, int32_t(vocab - 1));
  std::vector<std::vector<int32_t>> seqs(static_cast<size_t>(count), std::vector<int32_t>(static_cast<size_t>(length)));
  for (auto& seq : seqs) {
    for (int32_t& id : seq) id = token(rng);
  }
  return seqs;
}

// The float model keeps the golden top-1 on 99 % of positions (bf16 math). These random
// tiny models have small top-1 margins, so that quantization noise flips some. Int8 weights
// multiply int16 activations (per block of 256 columns), which measure the same as exact ones
// here. Measured (tiny-a / tiny-b): int8 per channel with the embeddings and lm_head per
// group of 32 (the default) 96.5 % / 96.5 %; everything per channel 95.1 % / 94.4 %;
// everything per group of 32 96.2 % / 95.5 %; GPTQ calibrated on 1,024 random tokens 96.2 % /
// 95.8 % (its Hessians come from the bf16 path, which rounds differently per CPU).
TEST(Quantize, Int8KeepsGoldenTop1) {
  struct Case {
    const char* model;
    int64_t group;            // of the Linear weights; 0: per channel
    int64_t embedding_group;  // QuantizeOptions::embedding_group_size
    kernels::MathMode math;
    bool calibrated;
    double min_top1;
  };
  using kernels::MathMode;
  std::vector<Case> cases;
  for (const char* model : {"tiny-a", "tiny-b"}) {
    const bool b = std::string(model) == "tiny-b";
    cases.push_back({model, 0, -1, MathMode::BF16, false, 0.95});
    cases.push_back({model, 0, -1, MathMode::F32, false, 0.95});
    cases.push_back({model, 0, 0, MathMode::BF16, false, b ? 0.93 : 0.95});
    // tiny-b measures 274 and 275 of 287 here, one or two positions above 95 %: near-ties
    // that the float paths of another CPU (AMX, say) may flip, so these hold to 94 %.
    cases.push_back({model, 32, -1, MathMode::BF16, false, b ? 0.94 : 0.95});
    cases.push_back({model, 0, -1, MathMode::BF16, true, b ? 0.94 : 0.95});
  }
  for (const char* model : {"tiny-a", "tiny-b"}) {
    print(std::string(model) + " float weights, bf16 math", golden_agreement(model_dir(model), model, MathMode::BF16));
  }
  for (const Case& c : cases) {
    TempDir tmp;
    QuantizeOptions options{WeightFormat::Int8, c.group, {}, {}};
    options.embedding_group_size = c.embedding_group;
    if (c.calibrated) options.calibration = calibration_sequences(Golden(c.model).vocab(), 4, 256);
    const std::filesystem::path dir = quantize(c.model, tmp, options);
    const Agreement a = golden_agreement(dir, c.model, c.math);
    const std::string what = std::string(c.model) + " int8 group " + std::to_string(c.group) + ", embeddings " +
                             (c.embedding_group == 0 ? "alike" : "default") + (c.calibrated ? ", gptq" : "") +
                             (c.math == MathMode::BF16 ? ", int16 activations" : ", f32 activations");
    print(what, a);
    EXPECT_GE(a.fraction(), c.min_top1) << what;
    EXPECT_LT(a.rms_rel, 0.08) << what;
  }
}

TEST(Quantize, CalibrationIsRecordedAndChecked) {
  TempDir tmp;
  QuantizeOptions options{WeightFormat::Int4, 32, {}, calibration_sequences(512, 2, 40)};
  const std::filesystem::path dir = quantize("tiny-a", tmp, options);
  const nlohmann::json calibration = io::read_json_file(dir / "config.json").at("quantization_config").at("calibration");
  EXPECT_EQ(calibration.at("method"), "gptq");
  EXPECT_EQ(calibration.at("tokens"), 80);
  EXPECT_EQ(calibration.at("act_order"), true);
  const QuantConfig loaded = Model::load(dir, {})->config().quant;
  EXPECT_EQ(loaded.gptq.tokens, 80);
  EXPECT_EQ(loaded.gptq.dampening, kGptqDampening);
  EXPECT_TRUE(loaded.gptq.act_order);

  TempDir bad;
  options.calibration = {{1, 2, 512}};
  try {
    quantize("tiny-a", bad, options);
    FAIL() << "a calibration token outside the vocabulary";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("calibration sequence 0, tokens from 0: batch token 2: id 512 is outside the vocabulary"), std::string::npos) << e.what();
  }
}

// Calibration keeps only the inputs of weights GPTQ rounds; the others' rounding does not
// change when some weights stay float (q_proj kept: k_proj and v_proj, which share its input,
// still get theirs; down_proj kept: the next layer's in_proj does not inherit gate/up's).
TEST(Quantize, CalibrationSkipsKeptWeights) {
  const auto calibration = calibration_sequences(512, 2, 64);
  TempDir all_tmp, kept_tmp;
  const std::filesystem::path all = quantize("tiny-a", all_tmp, {WeightFormat::Int8, 0, {}, calibration});
  const std::filesystem::path kept =
      quantize("tiny-a", kept_tmp, {WeightFormat::Int8, 0, {"q_proj", "feed_forward.down_proj"}, calibration});
  const auto a = io::SafetensorsFile::open(all / "model.safetensors");
  const auto k = io::SafetensorsFile::open(kept / "model.safetensors");
  int compared = 0;
  for (const io::TensorInfo& t : k->tensors()) {
    if (t.dtype != DType::I8) continue;
    const io::TensorInfo* same = a->find(t.name);
    ASSERT_NE(same, nullptr) << t.name;
    ASSERT_EQ(t.nbytes, same->nbytes) << t.name;
    EXPECT_EQ(std::memcmp(t.data, same->data, t.nbytes), 0) << t.name;
    ++compared;
  }
  EXPECT_GT(compared, 10);
  EXPECT_EQ(k->find("model.layers.1.self_attn.q_proj.weight")->dtype, DType::BF16);
}

TEST(Quantize, Int4LoadsAndStaysClose) {
  for (const char* model : {"tiny-a", "tiny-b"}) {
    for (int64_t group : {int64_t(32), int64_t(64)}) {
      if (std::string(model) == "tiny-b" && group == 64) continue;  // 96 / 160 wide rows: 64 does not divide
      TempDir tmp;
      const std::filesystem::path dir = quantize(model, tmp, {WeightFormat::Int4, group, {}, {}});
      const Agreement a = golden_agreement(dir, model, kernels::MathMode::BF16);
      print(std::string(model) + " q4 group " + std::to_string(group), a);
      // 4 bits on uniform random weights: measured 56 % (tiny-a) and 38 % (tiny-b) top-1,
      // against 0.2 % by chance; the kernels' exactness is tested in kernels_tests.
      EXPECT_GE(a.fraction(), 0.3) << model << " group " << group;
      EXPECT_LT(a.rms_rel, 0.6) << model;
    }
  }
}

TEST(Quantize, WritesALoadableFolder) {
  TempDir tmp;
  const std::filesystem::path dir = quantize("tiny-a", tmp, {WeightFormat::Int4, 64, {"lm_head", "layers.1."}, {}});
  EXPECT_TRUE(std::filesystem::exists(dir / "generation_config.json"));
  const nlohmann::json config = io::read_json_file(dir / "config.json");
  const nlohmann::json& qc = config.at("quantization_config");
  EXPECT_EQ(qc.at("quant_method"), "compressed-tensors");
  EXPECT_EQ(qc.at("format"), "pack-quantized");
  const nlohmann::json& weights = qc.at("config_groups").at("group_0").at("weights");
  EXPECT_EQ(weights.at("num_bits"), 4);
  EXPECT_EQ(weights.at("strategy"), "group");
  EXPECT_EQ(weights.at("group_size"), 64);
  const std::vector<std::string> ignore = qc.at("ignore");
  EXPECT_NE(std::find(ignore.begin(), ignore.end(), "lm_head"), ignore.end());
  EXPECT_NE(std::find(ignore.begin(), ignore.end(), "model.layers.1.self_attn.q_proj"), ignore.end());

  const auto file = io::SafetensorsFile::open(dir / "model.safetensors");
  const auto src = io::SafetensorsFile::open(model_dir("tiny-a") / "model.safetensors");
  EXPECT_EQ(file->find("lm_head.weight")->dtype, DType::BF16);       // kept
  EXPECT_EQ(file->find("model.layers.1.self_attn.q_proj.weight")->dtype, DType::BF16);
  EXPECT_EQ(file->find("model.layers.0.mamba.conv1d.weight")->dtype, src->find("model.layers.0.mamba.conv1d.weight")->dtype);
  EXPECT_EQ(file->find("model.layers.0.mamba.A_log")->dtype, src->find("model.layers.0.mamba.A_log")->dtype);
  const io::TensorInfo* packed = file->find("model.layers.0.mamba.in_proj.weight_packed");
  ASSERT_NE(packed, nullptr);
  EXPECT_EQ(packed->dtype, DType::I32);
  EXPECT_EQ(packed->shape, (std::vector<int64_t>{296, 64 / 8}));
  EXPECT_EQ(file->find("model.layers.0.mamba.in_proj.weight_scale")->shape, (std::vector<int64_t>{296, 1}));
  EXPECT_EQ(file->find("model.embed_tokens.weight_packed")->shape, (std::vector<int64_t>{512, 8}));
  // The embeddings take their own group (kDefaultEmbeddingGroupSize).
  const nlohmann::json& embedding_group = qc.at("config_groups").at("group_1");
  EXPECT_EQ(embedding_group.at("targets"), (std::vector<std::string>{"Embedding", "lm_head"}));
  EXPECT_EQ(embedding_group.at("weights").at("group_size"), 32);
  EXPECT_EQ(file->find("model.embed_tokens.weight_scale")->shape, (std::vector<int64_t>{512, 2}));
  EXPECT_EQ(file->find("model.layers.0.mamba.in_proj.weight"), nullptr);

  const std::unique_ptr<Model> model = Model::load(dir, {});
  EXPECT_LT(model->weight_bytes(), Model::load(model_dir("tiny-a"), {})->weight_bytes());
}

// Per-channel int8 with the embeddings and lm_head per group of 32 (the default): two config
// groups, lm_head matched by name before the "Linear" class; or one group when told so.
TEST(Quantize, EmbeddingsTakeTheirOwnScales) {
  TempDir tmp;
  const std::filesystem::path dir = quantize("tiny-a", tmp, {WeightFormat::Int8, 0, {}, {}});
  const QuantConfig q = Model::load(dir, {})->config().quant;
  ASSERT_EQ(q.groups.size(), 2u);
  EXPECT_EQ(q.groups[0].targets, (std::vector<std::string>{"Linear"}));
  EXPECT_EQ(q.groups[0].strategy, ScaleStrategy::Channel);
  EXPECT_EQ(q.groups[1].strategy, ScaleStrategy::Group);
  EXPECT_EQ(q.groups[1].group_size, kDefaultEmbeddingGroupSize);
  EXPECT_EQ(q.group_of("lm_head", "Linear"), &q.groups[1]);
  EXPECT_EQ(q.group_of("model.embed_tokens", "Embedding"), &q.groups[1]);
  EXPECT_EQ(q.group_of("model.layers.0.mamba.in_proj", "Linear"), &q.groups[0]);
  EXPECT_NE(q.describe().find("scale per channel (Linear); scale per group of 32 (Embedding, lm_head)"), std::string::npos)
      << q.describe();
  const auto file = io::SafetensorsFile::open(dir / "model.safetensors");
  EXPECT_EQ(file->find("lm_head.weight_scale")->shape, (std::vector<int64_t>{512, 2}));
  EXPECT_EQ(file->find("model.embed_tokens.weight_scale")->shape, (std::vector<int64_t>{512, 2}));
  EXPECT_EQ(file->find("model.layers.0.mamba.in_proj.weight_scale")->shape, (std::vector<int64_t>{296, 1}));

  QuantizeOptions same{WeightFormat::Int8, 0, {}, {}};
  same.embedding_group_size = 0;
  TempDir one;
  const QuantConfig single = Model::load(quantize("tiny-a", one, same), {})->config().quant;
  ASSERT_EQ(single.groups.size(), 1u);
  EXPECT_EQ(single.groups[0].targets, (std::vector<std::string>{"Linear", "Embedding"}));
  EXPECT_EQ(single.groups[0].strategy, ScaleStrategy::Channel);

  // A checkpoint's groups share one format.
  nlohmann::json config = io::read_json_file(dir / "config.json");
  config["quantization_config"]["config_groups"]["group_1"]["weights"]["num_bits"] = 4;
  std::ofstream(dir / "config.json") << config.dump();
  try {
    (void)Model::load(dir, {});
    FAIL() << "groups of two bit widths";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config_groups.group_1: format \"int-quantized\" needs weights of num_bits 8"),
              std::string::npos)
        << e.what();
  }
}

TEST(Quantize, RefusesBadRequests) {
  TempDir tmp;
  EXPECT_THROW(quantize("tiny-a", tmp, {WeightFormat::Int8, 48, {}, {}}), Error);  // 48 does not divide 64
  try {
    quantize("tiny-a", tmp, {WeightFormat::Int4, 128, {}, {}});
    FAIL() << "group 128 cannot divide 64-wide rows";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("groups of 128"), std::string::npos) << e.what();
  }
  QuantizeOptions embedding_48{WeightFormat::Int8, 0, {}, {}};
  embedding_48.embedding_group_size = 48;
  try {
    quantize("tiny-a", tmp, embedding_48);
    FAIL() << "embedding group 48 cannot divide 64-wide rows";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.embed_tokens.weight [512, 64]: 64 input columns do not split into groups of 48"),
              std::string::npos)
        << e.what();
  }
  const std::filesystem::path dir = quantize("tiny-a", tmp, {WeightFormat::Int8, 0, {}, {}});
  TempDir again;
  try {
    quantize_checkpoint(dir, again.path() / "q", {}, test_pool(), nullptr);
    FAIL() << "quantizing a quantized model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already quantized"), std::string::npos) << e.what();
  }
}

// fp8: the generator's checkpoint loads, and matches the float model it stands for.
TEST(Fp8Checkpoint, RoundTripPerChannelAndPerTensor) {
  struct Variant {
    Fp8Options options;
    const char* what;
  };
  const Variant variants[] = {
      {{true, DType::BF16, {1}}, "channel, BF16 scales [out, 1]"},
      {{true, DType::F32, {1}}, "channel, F32 scales"},
      {{false, DType::BF16, {1}}, "tensor, scale [1]"},
      {{false, DType::F32, {}}, "tensor, scale []"},
  };
  for (const char* model : {"tiny-a", "tiny-b"}) {
    for (const Variant& v : variants) {
      SCOPED_TRACE(std::string(model) + " " + v.what);
      EditableCheckpoint fp8(model);
      make_fp8_checkpoint(fp8, v.options);
      EditableCheckpoint dequantized(model);
      make_fp8_checkpoint(dequantized, v.options);
      dequantize_fp8_checkpoint(dequantized);
      print(std::string(model) + " fp8 " + v.what + " vs golden", golden_agreement(fp8.write(), model, kernels::MathMode::BF16));

      // Against the float model it stands for: only the int8 conversion and the int8
      // activations differ (measured rms_rel 0.03 on tiny-a, 0.065 on tiny-b).
      const std::unique_ptr<Model> a = Model::load(fp8.dir(), {});
      const std::unique_ptr<Model> b = Model::load(dequantized.write(), {});
      const Golden golden(model);
      const std::vector<float> la = prefill_logits(*a, golden, 200);
      const std::vector<float> lb = prefill_logits(*b, golden, 200);
      const size_t V = size_t(golden.vocab());
      double err2 = 0, ref2 = 0;
      int64_t same = 0;
      for (size_t i = 0; i < la.size(); ++i) {
        err2 += double(la[i] - lb[i]) * double(la[i] - lb[i]);
        ref2 += double(lb[i]) * double(lb[i]);
      }
      for (size_t r = 0; r < la.size() / V; ++r) {
        same += argmax({la.data() + r * V, V}) == argmax({lb.data() + r * V, V});
      }
      std::printf("[ measured ] %s fp8 %s vs its dequantized float model: top-1 %.3f, rms_rel %.4f\n", model, v.what,
                  double(same) / double(la.size() / V), std::sqrt(err2 / ref2));
      EXPECT_LT(std::sqrt(err2 / ref2), 0.1);
      EXPECT_GE(double(same) / double(la.size() / V), 0.85);
    }
  }
}

// Loads `ckpt` and expects an Error whose message contains every one of `parts`.
void expect_load_error(EditableCheckpoint& ckpt, const std::vector<std::string>& parts) {
  try {
    (void)Model::load(ckpt.write(), {});
    ADD_FAILURE() << "loaded without error";
  } catch (const Error& e) {
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Fp8Checkpoint, BadConfigsAreClearErrors) {
  const std::string scale = "model.layers.0.mamba.in_proj.weight_scale";
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {});
    c.config()["quantization_config"]["quant_method"] = "gptq";
    expect_load_error(c, {"quant_method", "compressed-tensors", "gptq"});
  }
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {});
    c.config()["quantization_config"]["format"] = "marlin-24";
    expect_load_error(c, {"format", "marlin-24"});
  }
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {});
    c.drop(scale);
    expect_load_error(c, {scale, "missing"});
  }
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {});
    c.tensor(scale).shape = {1, 296};
    expect_load_error(c, {scale, "[296, 1]", "[1, 296]"});
  }
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {true, DType::BF16, {1}});
    c.config()["quantization_config"]["config_groups"]["group_0"]["weights"]["strategy"] = "tensor";
    expect_load_error(c, {"weight_scale", "one element", "found [128, 1]"});
  }
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {});
    c.config()["quantization_config"]["config_groups"]["group_0"]["weights"]["num_bits"] = 4;
    expect_load_error(c, {"float-quantized", "num_bits 8"});
  }
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {});
    c.config().erase("quantization_config");
    expect_load_error(c, {"F8_E4M3", "no quantization_config"});
  }
  {
    EditableCheckpoint c("tiny-a");
    make_fp8_checkpoint(c, {});
    c.config()["quantization_config"]["config_groups"]["group_0"]["input_activations"]["dynamic"] = false;
    expect_load_error(c, {"dynamic", "static"});
  }
}

}  // namespace
}  // namespace bamba::testing

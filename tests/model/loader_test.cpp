// Model::load on intact and broken checkpoints: every error names the folder or file, the
// tensor or config key, and expected vs found.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "base/error.h"
#include "checkpoint_edit.h"
#include "golden.h"
#include "model/model.h"
#include "model/tensor_list.h"

namespace bamba::testing {
namespace {

LoadOptions f32_math() {
  LoadOptions options;
  options.math = kernels::MathMode::F32;
  return options;
}

void expect_load_error(const std::filesystem::path& dir, std::initializer_list<std::string> parts) {
  try {
    (void)Model::load(dir, f32_math());
    ADD_FAILURE() << "no error loading " << dir;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(dir.string()), std::string::npos) << message << "  lacks the folder";
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << message << "  lacks: " << part;
    }
  }
}

TEST(ModelLoad, TinyModelsLoad) {
  for (const std::string model : {"tiny-a", "tiny-b"}) {
    const auto m = Model::load(model_dir(model), f32_math());
    const ModelConfig& c = m->config();
    EXPECT_EQ(c.model_type, "bamba");
    // Every tensor of the list is in use: mapped bytes plus f32 copies of the vectors.
    int64_t expected_bytes = 0;
    const int64_t stored = model == "tiny-a" ? 2 : 4;
    for (const TensorSpec& spec : bamba_tensor_list(c)) {
      expected_bytes += spec.numel() * (spec.keep == TensorKeep::Mapped ? stored : 4);
    }
    EXPECT_EQ(m->weight_bytes(), expected_bytes) << model;
  }
}

TEST(ModelLoad, TiedModelHasNoLmHeadInTheList) {
  const ModelConfig c = load_model_config(model_dir("tiny-b") / "config.json");
  ASSERT_TRUE(c.tie_word_embeddings);
  for (const TensorSpec& spec : bamba_tensor_list(c)) EXPECT_NE(spec.name, "lm_head.weight");
  // The file holds exactly the listed tensors.
  EditableCheckpoint ckpt("tiny-b");
  EXPECT_EQ(ckpt.tensors().size(), bamba_tensor_list(c).size());
}

TEST(ModelLoad, TiedModelWithStoredLmHeadIsAccepted) {
  EditableCheckpoint ckpt("tiny-b");
  EditableTensor head = ckpt.tensor("model.embed_tokens.weight");
  head.name = "lm_head.weight";
  ckpt.tensors().push_back(head);
  EXPECT_NO_THROW((void)Model::load(ckpt.write(), f32_math()));
}

TEST(ModelLoad, MissingTensor) {
  EditableCheckpoint ckpt("tiny-a");
  ckpt.drop("model.layers.1.self_attn.k_proj.weight");
  expect_load_error(ckpt.write(), {"model.layers.1.self_attn.k_proj.weight", "missing", "[32, 64]",
                                   "num_key_value_heads * head_dim, hidden_size"});
}

TEST(ModelLoad, MissingLmHeadOfUntiedModel) {
  EditableCheckpoint ckpt("tiny-a");
  ckpt.drop("lm_head.weight");
  expect_load_error(ckpt.write(), {"lm_head.weight", "missing", "[512, 64]"});
}

TEST(ModelLoad, RenamedTensor) {
  EditableCheckpoint ckpt("tiny-a");
  ckpt.tensor("model.final_layernorm.weight").name = "model.norm.weight";
  expect_load_error(ckpt.write(), {"model.final_layernorm.weight", "missing"});
}

TEST(ModelLoad, UnexpectedTensorOnTheWrongLayerKind) {
  EditableCheckpoint ckpt("tiny-a");
  EditableTensor a_log = ckpt.tensor("model.layers.0.mamba.A_log");
  a_log.name = "model.layers.1.mamba.A_log";
  ckpt.tensors().push_back(a_log);
  expect_load_error(ckpt.write(), {"model.safetensors", "unexpected tensor 'model.layers.1.mamba.A_log'",
                                   "attention layer", "attn_layer_indices"});
}

TEST(ModelLoad, UnexpectedBiasNamesTheConfigKey) {
  EditableCheckpoint ckpt("tiny-a");
  EditableTensor bias = ckpt.tensor("model.layers.0.mamba.dt_bias");
  bias.name = "model.layers.0.mamba.conv1d.bias";
  ckpt.tensors().push_back(bias);
  expect_load_error(ckpt.write(), {"model.layers.0.mamba.conv1d.bias", "mamba_conv_bias"});
}

TEST(ModelLoad, WrongShape) {
  EditableCheckpoint ckpt("tiny-a");
  EditableTensor& in_proj = ckpt.tensor("model.layers.0.mamba.in_proj.weight");
  in_proj.shape = {295, 64};
  in_proj.bytes.resize(295 * 64 * 2);
  expect_load_error(ckpt.write(), {"model.safetensors", "model.layers.0.mamba.in_proj.weight",
                                   "expected shape [296, 64]", "found [295, 64]", "mamba_n_heads"});
}

TEST(ModelLoad, ConvWeightNeedsItsMiddleAxis) {
  EditableCheckpoint ckpt("tiny-a");
  ckpt.tensor("model.layers.2.mamba.conv1d.weight").shape = {160, 4};
  expect_load_error(ckpt.write(), {"model.layers.2.mamba.conv1d.weight", "[160, 1, 4]", "found [160, 4]"});
}

TEST(ModelLoad, UnsupportedDtype) {
  EditableCheckpoint ckpt("tiny-a");
  ckpt.convert("model.layers.0.mamba.D", DType::F64);
  expect_load_error(ckpt.write(), {"model.layers.0.mamba.D", "F32, F16 or BF16", "found F64"});
}

TEST(ModelLoad, ConfigErrorsNameTheKey) {
  struct Case {
    const char* key;
    nlohmann::json value;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"num_key_value_heads", 3, {"config.json", "num_key_value_heads", "divisor", "found 3"}},
      {"attn_layer_indices", {7}, {"config.json", "attn_layer_indices", "found 7"}},
      {"model_type", "mamba3", {"config.json", "model_type", "\"bamba\"", "mamba3"}},
      {"rope_scaling", {{"type", "dynamic"}}, {"config.json", "rope_scaling", "dynamic"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    EditableCheckpoint ckpt("tiny-a");
    ckpt.config()[c.key] = c.value;
    const std::filesystem::path& dir = ckpt.write();
    try {
      (void)Model::load(dir, f32_math());
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(dir.string()), std::string::npos) << message;
      for (const std::string& part : c.parts) EXPECT_NE(message.find(part), std::string::npos) << message << " lacks " << part;
    }
  }
}

TEST(ModelLoad, MissingFolderOrConfig) {
  EditableCheckpoint ckpt("tiny-a");
  expect_load_error(ckpt.dir() / "nope", {"no such directory"});
  ckpt.write();
  std::filesystem::remove(ckpt.dir() / "config.json");
  expect_load_error(ckpt.dir(), {"config.json", "missing"});
}

TEST(ModelLoad, SmallerLayerCountThanTheFile) {
  EditableCheckpoint ckpt("tiny-a");
  ckpt.config()["num_hidden_layers"] = 3;
  expect_load_error(ckpt.write(), {"unexpected tensor 'model.layers.3.", "num_hidden_layers = 3"});
}

// An F16 copy of tiny-a (every BF16 value of these weights is exact in F16) still matches
// the fp32 golden: F16 storage is read correctly everywhere.
TEST(ModelLoad, F16CheckpointMatchesGolden) {
  EditableCheckpoint ckpt("tiny-a");
  for (EditableTensor& t : ckpt.tensors()) ckpt.convert(t.name, DType::F16);
  const auto model = Model::load(ckpt.write(), f32_math());
  const Golden golden("tiny-a");
  StateCacheOptions options;
  options.kv_block_count = 4;
  options.kv_dtype = DType::F32;
  StateCache cache(model->config(), options);
  Batch batch;
  batch.tokens = golden.ids(17);
  batch.sequences = {{*cache.acquire(), 0, 17}};
  for (int32_t p : golden.logits_positions(17)) batch.logit_rows.push_back(p);
  std::vector<float> logits(batch.logit_rows.size() * 512);
  ThreadPool pool(1);
  model->forward(batch, cache, logits.data(), pool);
  const Tolerance tol = golden.tolerance(false);
  const LogitsCheck check = compare_logits(logits, golden.logits(17), 512, tol);
  EXPECT_EQ(tolerance_failure(check, tol), "") << check.max_abs;
}

}  // namespace
}  // namespace bamba::testing

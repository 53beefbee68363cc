// The shared tiny checkpoints (tests/data/bamba) open and read as the Python reader sees them.
#include <gtest/gtest.h>

#include <cstring>

#include "base/half.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "test_files.h"

namespace bamba::io {
namespace {

const std::filesystem::path kBambaData = std::filesystem::path(BAMBA_TEST_DATA_DIR) / "bamba";

TEST(CheckpointFiles, TinyA) {
  const TensorStore store = TensorStore::open_dir(kBambaData / "tiny-a");
  EXPECT_EQ(store.names().size(), 48u);
  EXPECT_EQ(store.total_bytes(), 520976u);
  const TensorInfo* embed = store.find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->dtype, DType::BF16);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(embed->nbytes, 65536u);
  uint16_t first[4];
  std::memcpy(first, embed->data, sizeof first);  // bytes 6f3f 0abe 8dbf 9b3f (little-endian)
  EXPECT_EQ(first[0], 0x3f6f);
  EXPECT_EQ(first[3], 0x3f9b);
  EXPECT_GT(bf16_to_f32(first[0]), 0.0f);
  EXPECT_NE(store.find("lm_head.weight"), nullptr);

  const nlohmann::json config = read_json_file(kBambaData / "tiny-a" / "config.json");
  EXPECT_EQ(config.at("hidden_size").get<int64_t>(), embed->shape[1]);
  EXPECT_EQ(config.at("vocab_size").get<int64_t>(), embed->shape[0]);
  EXPECT_TRUE(read_json_file(kBambaData / "tiny-a" / "generation_config.json").is_object());
}

TEST(CheckpointFiles, TinyB) {
  const TensorStore store = TensorStore::open_dir(kBambaData / "tiny-b");
  EXPECT_EQ(store.names().size(), 72u);
  EXPECT_EQ(store.total_bytes(), 2820544u);
  EXPECT_EQ(store.find("lm_head.weight"), nullptr);  // tied embeddings
  const TensorInfo* embed = store.find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->dtype, DType::F32);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{1000, 96}));
  uint32_t first;
  std::memcpy(&first, embed->data, sizeof first);
  EXPECT_EQ(first, 0x3d037c55u);
}

TEST(CheckpointFiles, Goldens) {
  const std::pair<const char*, std::array<int32_t, 5>> expected[] = {{"tiny-a", {96, 235, 341, 462, 295}},
                                                                      {"tiny-b", {53, 479, 622, 837, 564}}};
  for (const auto& [model, ids] : expected) {
    const auto golden = SafetensorsFile::open(kBambaData / model / "golden.safetensors");
    EXPECT_EQ(golden->tensors().size(), 30u) << model;
    EXPECT_EQ(golden->metadata().at("model"), model);
    EXPECT_EQ(golden->metadata().at("format"), "bamba-golden-v1");
    const TensorInfo* ids_5 = golden->find("ids_5");
    ASSERT_NE(ids_5, nullptr) << model;
    EXPECT_EQ(ids_5->dtype, DType::I32);
    EXPECT_EQ(ids_5->shape, (std::vector<int64_t>{5}));
    std::array<int32_t, 5> got;
    std::memcpy(got.data(), ids_5->data, sizeof got);
    EXPECT_EQ(got, ids) << model;
    EXPECT_TRUE(read_json_file(kBambaData / model / "golden.json").is_object());
  }
}

}  // namespace
}  // namespace bamba::io

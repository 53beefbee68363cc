// write_safetensors → SafetensorsFile::open gives back every dtype, shape, byte and metadata.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "io/safetensors.h"
#include "test_files.h"

namespace bamba::io {
namespace {

using testing::TempDir;

constexpr DType kAllDTypes[] = {DType::F32, DType::F16, DType::BF16, DType::F8_E4M3, DType::I8,  DType::U8,
                                DType::I16, DType::I32, DType::I64,  DType::F64,     DType::BOOL};

// Distinct bytes for each tensor, so a mix-up of offsets shows.
std::vector<std::byte> pattern(size_t n, uint8_t seed) {
  std::vector<std::byte> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = std::byte(uint8_t(seed * 31 + i * 7));
  return bytes;
}

TEST(SafetensorsRoundTrip, EveryDTypeShapeAndByte) {
  TempDir dir;
  std::vector<std::vector<std::byte>> storage;
  std::vector<TensorToWrite> tensors;
  // Odd element counts first in the list, so packing in list order would misalign them.
  for (size_t i = 0; i < std::size(kAllDTypes); ++i) {
    const DType dtype = kAllDTypes[std::size(kAllDTypes) - 1 - i];
    const std::vector<int64_t> shape = {3, int64_t(i % 3) + 1};
    storage.push_back(pattern(size_t(3 * shape[1]) * dtype_size(dtype), uint8_t(i)));
    tensors.push_back({str_cat("t.", dtype_name(dtype)), dtype, shape, storage.back()});
  }
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "ünïcode"}};
  const auto path = dir / "all.safetensors";
  write_safetensors(path, tensors, metadata);

  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->metadata(), metadata);
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& got = file->tensors()[i];  // header order == the order given
    EXPECT_EQ(got.name, tensors[i].name);
    EXPECT_EQ(got.dtype, tensors[i].dtype);
    EXPECT_EQ(got.shape, tensors[i].shape);
    EXPECT_EQ(got.numel(), tensors[i].shape[0] * tensors[i].shape[1]);
    EXPECT_EQ(got.nbytes, tensors[i].data.size());
    EXPECT_EQ(got.file, path);
    EXPECT_EQ(std::memcmp(got.data, tensors[i].data.data(), got.nbytes), 0) << got.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got.data) % dtype_size(got.dtype), 0u) << got.name << " misaligned";
    EXPECT_EQ(file->find(got.name), &got);
  }
  EXPECT_EQ(file->find("absent"), nullptr);
}

TEST(SafetensorsRoundTrip, HeaderPaddedWithSpacesToEightBytes) {
  TempDir dir;
  const auto bytes = pattern(6, 1);
  write_safetensors(dir / "a.safetensors", {{"abc", DType::U8, {6}, bytes}});
  const std::string image = testing::read_bytes(dir / "a.safetensors");
  uint64_t header_len = 0;
  std::memcpy(&header_len, image.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
  EXPECT_EQ(image.size(), 8 + header_len + 6);
  const std::string header = image.substr(8, header_len);
  EXPECT_EQ(header.front(), '{');
  const size_t last = header.find_last_not_of(' ');
  EXPECT_EQ(header[last], '}');
  // No temporary file is left beside the target.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(SafetensorsRoundTrip, DataPackedWithoutGapsWidestFirst) {
  TempDir dir;
  const auto a = pattern(3, 1), b = pattern(8, 2), c = pattern(4, 3);
  write_safetensors(dir / "p.safetensors",
                    {{"a", DType::U8, {3}, a}, {"b", DType::F64, {1}, b}, {"c", DType::BF16, {2}, c}});
  const auto file = SafetensorsFile::open(dir / "p.safetensors");
  const std::byte* base = file->find("b")->data;
  EXPECT_EQ(file->find("c")->data, base + 8);
  EXPECT_EQ(file->find("a")->data, base + 12);
}

TEST(SafetensorsRoundTrip, ZeroSizeAndScalarTensors) {
  TempDir dir;
  const auto scalar = pattern(4, 5);
  write_safetensors(dir / "z.safetensors", {{"empty", DType::F32, {0, 7}, {}},
                                            {"scalar", DType::F32, {}, scalar},
                                            {"empty_last", DType::BF16, {4, 0}, {}}});
  const auto file = SafetensorsFile::open(dir / "z.safetensors");
  EXPECT_EQ(file->find("empty")->nbytes, 0u);
  EXPECT_EQ(file->find("empty")->numel(), 0);
  EXPECT_EQ(file->find("empty")->shape, (std::vector<int64_t>{0, 7}));
  EXPECT_EQ(file->find("scalar")->numel(), 1);
  EXPECT_EQ(std::memcmp(file->find("scalar")->data, scalar.data(), 4), 0);
  EXPECT_TRUE(file->metadata().empty());
}

TEST(SafetensorsRoundTrip, EmptyFileHoldsNoTensors) {
  TempDir dir;
  write_safetensors(dir / "none.safetensors", {});
  const auto file = SafetensorsFile::open(dir / "none.safetensors");
  EXPECT_TRUE(file->tensors().empty());
}

TEST(SafetensorsRoundTrip, OverwritesAnExistingFile) {
  TempDir dir;
  const auto one = pattern(1, 1), two = pattern(2, 2);
  write_safetensors(dir / "f.safetensors", {{"x", DType::U8, {1}, one}});
  write_safetensors(dir / "f.safetensors", {{"y", DType::U8, {2}, two}});
  const auto file = SafetensorsFile::open(dir / "f.safetensors");
  EXPECT_EQ(file->find("x"), nullptr);
  ASSERT_NE(file->find("y"), nullptr);
}

// Files from other writers may place a tensor at an offset that is not a multiple of its
// element size: it is used in place (kernels load unaligned), not rejected or copied.
TEST(SafetensorsRead, UnalignedTensorIsAcceptedInPlace) {
  TempDir dir;
  std::string header = R"({"u8":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("f32":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  header.resize((header.size() + 7) / 8 * 8, ' ');
  using namespace std::string_view_literals;
  const std::string_view data = "\x07" "\x00\x00\x80\x3f" "\x00\x00\x00\x40"sv;  // u8 7, f32 1.0, f32 2.0
  testing::write_bytes(dir / "u.safetensors", testing::safetensors_image(header, data));
  const auto file = SafetensorsFile::open(dir / "u.safetensors");
  const TensorInfo* f32 = file->find("f32");
  ASSERT_NE(f32, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f32->data) % 4, 1u);
  float values[2];
  std::memcpy(values, f32->data, sizeof values);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);
}

// Other writers may also leave gaps between tensors; only shared bytes are an error.
TEST(SafetensorsRead, GapsBetweenTensorsAreAccepted) {
  TempDir dir;
  const std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("b":{"dtype":"U8","shape":[1],"data_offsets":[5,6]}})";
  testing::write_bytes(dir / "g.safetensors", testing::safetensors_image(header, "abcdefgh"));
  const auto file = SafetensorsFile::open(dir / "g.safetensors");
  EXPECT_EQ(char(*file->find("b")->data), 'f');
}

TEST(SafetensorsWrite, RejectsInconsistentInput) {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  const auto three = pattern(3, 0);
  testing::expect_error([&] { write_safetensors(path, {{"w", DType::F32, {1}, three}}); }, path.string(), "'w'",
                        "4", "3 bytes");
  testing::expect_error([&] { write_safetensors(path, {{"w", DType::U8, {-3}, three}}); }, "'w'", "-3");
  testing::expect_error(
      [&] { write_safetensors(path, {{"w", DType::U8, {3}, three}, {"w", DType::U8, {3}, three}}); }, "'w'",
      "twice");
  testing::expect_error([&] { write_safetensors(path, {{"__metadata__", DType::U8, {3}, three}}); }, "reserved");
  testing::expect_error([&] { write_safetensors(path, {{"bad\xff", DType::U8, {3}, three}}); }, path.string(),
                        "UTF-8");
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 0);  // no temp file left
}

TEST(SafetensorsWrite, MissingFolderIsAnError) {
  TempDir dir;
  const auto path = dir / "no" / "such" / "x.safetensors";
  testing::expect_error([&] { write_safetensors(path, {}); }, path.string());
}

}  // namespace
}  // namespace bamba::io

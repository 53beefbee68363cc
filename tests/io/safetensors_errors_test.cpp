// Every malformed-file case SafetensorsFile::open rejects, each with a message naming the
// file, the tensor and what was expected vs found.
#include <gtest/gtest.h>

#include "io/safetensors.h"
#include "test_files.h"

namespace bamba::io {
namespace {

using testing::expect_error;
using testing::safetensors_image;

class SafetensorsErrors : public ::testing::Test {
 protected:
  // Writes `image` as a file and expects opening it to fail naming the file and `parts`.
  template <class... Parts>
  void expect_open_error(std::string_view image, const Parts&... parts) {
    testing::write_bytes(path_, image);
    expect_error([&] { (void)SafetensorsFile::open(path_); }, path_.string(), parts...);
  }
  // The same for a header whose data section is `data`.
  template <class... Parts>
  void expect_header_error(std::string_view header, std::string_view data, const Parts&... parts) {
    expect_open_error(safetensors_image(header, data), parts...);
  }

  testing::TempDir dir_;
  std::filesystem::path path_ = dir_ / "model.safetensors";
};

TEST_F(SafetensorsErrors, MissingFile) {
  expect_error([&] { (void)SafetensorsFile::open(dir_ / "absent.safetensors"); }, "absent.safetensors",
               "cannot open");
}

TEST_F(SafetensorsErrors, DirectoryIsNotAFile) {
  expect_error([&] { (void)SafetensorsFile::open(dir_.path()); }, dir_.path().string(), "not a regular file");
}

TEST_F(SafetensorsErrors, FileShorterThanLengthField) {
  expect_open_error("", "0 bytes", "at least 8");
  expect_open_error(std::string_view("\x05\x00\x00", 3), "3 bytes", "at least 8");
}

TEST_F(SafetensorsErrors, HeaderLongerThanFile) {
  std::string image = safetensors_image("{}", "");
  image[0] = 100;
  expect_open_error(image, "100 bytes", "only 2 bytes follow", "truncated");
}

TEST_F(SafetensorsErrors, AbsurdHeaderLength) {
  std::string image(16, '\0');
  image[7] = 1;  // 2^56 bytes
  expect_open_error(image, "72057594037927936", "at most 100000000");
}

TEST_F(SafetensorsErrors, HeaderNotJson) {
  expect_header_error(R"({"a": {"dtype": "F32",)", "", "not valid UTF-8 JSON", "column");
  expect_header_error("", "", "not valid UTF-8 JSON");
}

TEST_F(SafetensorsErrors, HeaderNotAnObject) {
  expect_header_error("[1, 2]", "", "header is an array", "expected a JSON object");
  expect_header_error("\"F32\"", "", "header is string \"F32\"", "expected a JSON object");
}

TEST_F(SafetensorsErrors, HeaderNotUtf8) {
  expect_header_error("{\"w\xff\xfe\": {}}", "", "not valid UTF-8 JSON", "UTF-8");
}

TEST_F(SafetensorsErrors, EntryNotAnObject) {
  expect_header_error(R"({"w": [1, 2]})", "", "tensor 'w'", "entry is an array", "expected an object");
}

TEST_F(SafetensorsErrors, MissingFields) {
  expect_header_error(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", "abcd", "tensor 'w'", "missing \"dtype\"");
  expect_header_error(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", "abcd", "tensor 'w'", "missing \"shape\"");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": [1]}})", "abcd", "tensor 'w'", "missing \"data_offsets\"");
}

TEST_F(SafetensorsErrors, WrongJsonTypes) {
  expect_header_error(R"({"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}})", "abcd", "tensor 'w'",
                      "\"dtype\" is number 4", "expected a string");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}})", "abcd", "tensor 'w'",
                      "\"shape\" is number 1", "expected an array");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}})", "abcd", "tensor 'w'",
                      "shape[0] is number 1.0", "expected a non-negative integer");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})", "abcd", "tensor 'w'",
                      "shape[0] is string \"1\"");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})", "abcd", "tensor 'w'",
                      "\"data_offsets\" is an array", "expected [begin, end]");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": {"0": 4}}})", "abcd", "tensor 'w'",
                      "\"data_offsets\" is an object");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}})", "abcd", "tensor 'w'",
                      "data_offsets[1] is string \"4\"");
  expect_header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [null, 4]}})", "abcd", "tensor 'w'",
                      "data_offsets[0] is null");
}

TEST_F(SafetensorsErrors, UnknownDType) {
  expect_header_error(R"({"w": {"dtype": "F4", "shape": [1], "data_offsets": [0, 1]}})", "a", "tensor 'w'",
                      "unknown dtype string \"F4\"", "known: F32, F16, BF16");
}

TEST_F(SafetensorsErrors, NegativeDimension) {
  expect_header_error(R"({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 0]}})", "", "tensor 'w'",
                      "shape[1] is number -1", "expected a non-negative integer");
}

TEST_F(SafetensorsErrors, OverflowingShape) {
  expect_header_error(
      R"({"w": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})", "", "tensor 'w'",
      "shape[1] = 4294967296", "overflow");
  expect_header_error(R"({"w": {"dtype": "U8", "shape": [18446744073709551615], "data_offsets": [0, 0]}})", "",
                      "tensor 'w'", "shape[0] = 18446744073709551615", "overflow");
  // Element count fits, byte count does not.
  expect_header_error(R"({"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 0]}})", "",
                      "tensor 'w'", "more bytes than a 64-bit size holds");
}

TEST_F(SafetensorsErrors, EndBeforeBegin) {
  expect_header_error(R"({"w": {"dtype": "U8", "shape": [0], "data_offsets": [4, 2]}})", "abcd", "tensor 'w'",
                      "[4, 2]", "end before begin");
}

TEST_F(SafetensorsErrors, SpanDisagreesWithShape) {
  expect_header_error(R"({"w": {"dtype": "BF16", "shape": [3, 2], "data_offsets": [0, 8]}})", "abcdefgh",
                      "tensor 'w'", "span 8 bytes, expected 12", "shape [3, 2] of BF16, 2 bytes each");
}

TEST_F(SafetensorsErrors, TruncatedFile) {
  expect_header_error(R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},)"
                      R"( "w": {"dtype": "F32", "shape": [4], "data_offsets": [2, 18]}})",
                      std::string(10, 'x'), "tensor 'w'", "[2, 18]", "data section, which has 10 bytes",
                      "truncated");
}

TEST_F(SafetensorsErrors, OverlappingTensors) {
  expect_header_error(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                      R"( "b": {"dtype": "U8", "shape": [4], "data_offsets": [6, 10]}})",
                      std::string(10, 'x'), "'a' and 'b' overlap", "2 bytes");
  // The same range twice is an overlap too.
  expect_header_error(R"({"b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},)"
                      R"( "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
                      std::string(4, 'x'), "overlap");
}

TEST_F(SafetensorsErrors, ZeroSizeTensorInsideAnotherIsNoOverlap) {
  testing::write_bytes(path_, safetensors_image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                                                R"( "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})",
                                                std::string(8, 'x')));
  EXPECT_EQ(SafetensorsFile::open(path_)->tensors().size(), 2u);
}

TEST_F(SafetensorsErrors, MetadataNotAStringMap) {
  expect_header_error(R"({"__metadata__": ["pt"]})", "", "\"__metadata__\" is an array",
                      "expected an object of strings");
  expect_header_error(R"({"__metadata__": {"format": "pt", "version": 2}})", "",
                      "\"__metadata__\" key 'version' is number 2", "expected a string");
}

TEST_F(SafetensorsErrors, DuplicateTensorName) {
  expect_header_error(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                      R"( "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                      "ab", "tensor 'w' appears twice");
}

TEST_F(SafetensorsErrors, DuplicateKeyInsideEntry) {
  expect_header_error(R"({"w": {"dtype": "U8", "dtype": "F32", "shape": [1], "data_offsets": [0, 1]}})", "a",
                      "entry 'w' has the key 'dtype' twice");
}

}  // namespace
}  // namespace bamba::io

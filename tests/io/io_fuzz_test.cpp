// Seeded random and mutated inputs for SafetensorsFile::open and JSON parsing: whatever the
// bytes, the only way out besides success is bamba::Error.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <random>

#include "io/json_file.h"
#include "io/safetensors.h"
#include "test_files.h"

namespace bamba::io {
namespace {

// Deterministic everywhere: only raw engine output is used (std distributions vary by library).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t below(uint64_t n) { return engine_() % n; }
  bool one_in(uint64_t n) { return below(n) == 0; }
  template <class T>
  const T& pick(const std::vector<T>& items) { return items[below(items.size())]; }
  std::string bytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(below(256));
    return out;
  }

 private:
  std::mt19937_64 engine_;
};

// An in-memory file with a path, rewritten for every case: thousands of cases through a
// disk file system would spend their time in the journal, not in the parser.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("bamba-io-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("memfd_create failed");
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() { ::close(fd_); }

  [[nodiscard]] std::filesystem::path path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  void assign(std::string_view bytes) const {
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, bytes.data(), bytes.size(), 0) != ssize_t(bytes.size())) {
      throw std::runtime_error("memfd write failed");
    }
  }

 private:
  int fd_;
};

// Opens `image` as a file; success must give self-consistent tensors, failure a bamba::Error.
// Returns whether it opened.
bool expect_open_is_safe(const MemoryFile& file_bytes, std::string_view image, size_t case_index) {
  file_bytes.assign(image);
  try {
    const auto file = SafetensorsFile::open(file_bytes.path());
    for (const TensorInfo& t : file->tensors()) {
      EXPECT_EQ(t.nbytes, size_t(t.numel()) * dtype_size(t.dtype)) << "case " << case_index;
      EXPECT_LE(t.nbytes, image.size()) << "case " << case_index;
      unsigned checksum = 0;  // touches every byte: a view past the mapping would fault
      for (size_t i = 0; i < t.nbytes; ++i) checksum += std::to_integer<unsigned>(t.data[i]);
      (void)checksum;
    }
    return true;
  } catch (const bamba::Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "case " << case_index << ": non-bamba exception: " << e.what();
  }
  return false;
}

void expect_json_is_safe(std::string_view text, size_t case_index) {
  try {
    (void)parse_json_text(text, "fuzz.json");
  } catch (const bamba::Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "case " << case_index << ": non-bamba exception: " << e.what();
  }
}

// A header built from plausible and implausible pieces: real and unknown dtypes, shapes
// with negative, huge and non-integer entries, offsets near and far from consistent.
std::string random_header(Rng& rng, size_t data_size) {
  static const std::vector<std::string> dtypes = {"\"F32\"", "\"BF16\"", "\"F16\"", "\"I64\"", "\"U8\"",
                                                  "\"BOOL\"", "\"F8_E4M3\"", "\"F4\"", "\"\"", "7", "null"};
  static const std::vector<std::string> dims = {"0", "1", "2", "3", "4", "-1", "4294967296",
                                                "18446744073709551615", "18446744073709551616", "1.5", "\"2\""};
  static const std::vector<std::string> names = {"\"w\"", "\"x\"", "\"__metadata__\"", "\"\"", "\"w\\u0000\"",
                                                 "\"\xc3\xa9\"", "\"\xff\""};
  std::string header = "{";
  const size_t entries = rng.below(5);
  uint64_t offset = 0;
  for (size_t e = 0; e < entries; ++e) {
    if (e) header += ",";
    header += rng.pick(names) + ":";
    if (rng.one_in(8)) {
      header += rng.one_in(2) ? R"({"format":"pt"})" : "[1]";
      continue;
    }
    header += "{";
    std::vector<std::string> fields;
    if (!rng.one_in(10)) fields.push_back("\"dtype\":" + rng.pick(dtypes));
    std::string shape = "[";
    const size_t rank = rng.below(4);
    for (size_t d = 0; d < rank; ++d) shape += (d ? "," : "") + rng.pick(dims);
    if (!rng.one_in(10)) fields.push_back("\"shape\":" + shape + "]");
    const uint64_t begin = rng.one_in(4) ? rng.below(data_size + 8) : offset;
    const uint64_t end = rng.one_in(3) ? begin + rng.below(64) : begin + 4 * rng.below(8);
    offset = end;
    if (!rng.one_in(10)) {
      fields.push_back(rng.one_in(10) ? "\"data_offsets\":[" + std::to_string(begin) + "]"
                                      : str_cat("\"data_offsets\":[", begin, ",", end, "]"));
    }
    if (rng.one_in(10)) fields.push_back("\"extra\":{}");
    for (size_t f = 0; f < fields.size(); ++f) header += (f ? "," : "") + fields[f];
    header += "}";
  }
  return header + "}";
}

TEST(IoFuzz, SafetensorsOpenNeverCrashes) {
  Rng rng(0x5eed5afe);

  // A valid file to mutate.
  std::string valid;
  {
    testing::TempDir dir;
    const std::vector<std::byte> payload(64, std::byte{0x3c});
    write_safetensors(dir / "valid.safetensors",
                      {{"a", DType::F32, {2, 3}, std::span(payload).first(24)},
                       {"b", DType::BF16, {4}, std::span(payload).first(8)},
                       {"c", DType::U8, {0}, {}}},
                      {{"format", "pt"}});
    valid = testing::read_bytes(dir / "valid.safetensors");
  }
  const MemoryFile file;

  size_t case_index = 0;
  int mutants_opened = 0;
  int random_opened = 0;
  for (int i = 0; i < 800; ++i, ++case_index) {  // random bytes, some with a believable length field
    std::string image = rng.bytes(rng.below(96));
    if (image.size() >= 8 && rng.one_in(2)) {
      const uint64_t len = rng.below(image.size());
      for (int b = 0; b < 8; ++b) image[b] = static_cast<char>((len >> (8 * b)) & 0xff);
    }
    expect_open_is_safe(file, image, case_index);
  }
  for (int i = 0; i < 1500; ++i, ++case_index) {  // mutations of the valid file
    std::string image = valid;
    const size_t edits = 1 + rng.below(4);
    for (size_t e = 0; e < edits; ++e) {
      switch (rng.below(5)) {
        case 0: image[rng.below(image.size())] ^= static_cast<char>(1u << rng.below(8)); break;
        case 1: image[rng.below(image.size())] = static_cast<char>(rng.below(256)); break;
        case 2: image.resize(rng.below(image.size() + 1)); break;
        case 3: image.insert(rng.below(image.size() + 1), rng.bytes(1 + rng.below(8))); break;
        case 4: image[rng.below(8)] = static_cast<char>(rng.below(256)); break;  // length field
      }
      if (image.empty()) break;
    }
    mutants_opened += expect_open_is_safe(file, image, case_index);
  }
  for (int i = 0; i < 1500; ++i, ++case_index) {  // random headers over random data
    const size_t data_size = rng.below(80);
    const std::string header = random_header(rng, data_size);
    random_opened += expect_open_is_safe(file, testing::safetensors_image(header, rng.bytes(data_size)), case_index);
  }
  // The generators must reach the success path too, not only the first checks.
  RecordProperty("mutants_opened", mutants_opened);
  RecordProperty("random_headers_opened", random_opened);
  EXPECT_GT(mutants_opened, 20);
  EXPECT_GT(random_opened, 100);
  // Deep nesting must not exhaust the stack.
  const std::string deep = R"({"w":)" + std::string(20000, '[') + std::string(20000, ']') + "}";
  expect_open_is_safe(file, testing::safetensors_image(deep, ""), case_index++);
}

TEST(IoFuzz, JsonParsingNeverCrashes) {
  Rng rng(0x15011);
  static const std::vector<std::string> tokens = {
      "{", "}", "[", "]", ",", ":", " ", "\n", "\"a\"", "\"", "\\", "\"\\u00\"", "1", "-", "0.5", "1e999",
      "-0", "Infinity", "-Infinity", "NaN", "+", "tru", "true", "null", "\xff", "\xc3", "\"\xc3\xa9\""};
  const std::string config = R"({"time_step_limit": [0.0, Infinity], "hidden_size": 64, "name": "NaN"})";
  size_t case_index = 0;
  for (int i = 0; i < 1500; ++i, ++case_index) expect_json_is_safe(rng.bytes(rng.below(48)), case_index);
  for (int i = 0; i < 2500; ++i, ++case_index) {  // token soups: nearly-JSON with the special tokens
    std::string text;
    const size_t count = rng.below(24);
    for (size_t t = 0; t < count; ++t) text += rng.pick(tokens);
    expect_json_is_safe(text, case_index);
  }
  for (int i = 0; i < 1500; ++i, ++case_index) {  // mutations of a config
    std::string text = config;
    const size_t edits = 1 + rng.below(3);
    for (size_t e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng.below(text.size());
      switch (rng.below(3)) {
        case 0: text[at] = static_cast<char>(rng.below(256)); break;
        case 1: text.erase(at, 1 + rng.below(6)); break;
        case 2: text.insert(at, rng.pick(tokens)); break;
      }
    }
    expect_json_is_safe(text, case_index);
  }
  expect_json_is_safe(std::string(20000, '[') + "Infinity" + std::string(20000, ']'), case_index++);

  testing::TempDir dir;  // and through the file path once, empty file included
  testing::write_bytes(dir / "f.json", "");
  EXPECT_THROW((void)read_json_file(dir / "f.json"), bamba::Error);
}

}  // namespace
}  // namespace bamba::io

// A whole file mapped read-only into memory (the storage behind SafetensorsFile and
// read_json_file): the bytes stay valid, unchanged, for the object's lifetime.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace bamba::io {

class MappedFile {
 public:
  // Maps `path` read-only (PROT_READ, MAP_PRIVATE). An empty file maps to no bytes.
  [[nodiscard]] static MappedFile open(const std::filesystem::path& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::span<const std::byte> bytes() const { return {data_, size_}; }

  // Asks the kernel to start reading [offset, offset + length) ahead of use.
  void prefetch(size_t offset, size_t length) const;

 private:
  MappedFile(const std::byte* data, size_t size) : data_(data), size_(size) {}
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bamba::io

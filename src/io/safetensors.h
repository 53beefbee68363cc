// Reading safetensors checkpoints through mmap (tensors are used in place, in their stored
// dtype) and writing small safetensors files (logits dumps, quantized checkpoints, tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/dtype.h"

namespace bamba::io {

// One tensor inside a mapped file. `data` stays valid while its file object lives.
struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;  // start of the tensor's bytes in the mapping; files from
                                    // other writers may leave it unaligned (kernels load unaligned)
  size_t nbytes = 0;                // == product(shape) * dtype_size(dtype)
  std::filesystem::path file;       // the file it lives in, for error messages

  [[nodiscard]] int64_t numel() const;
};

// A single .safetensors file, mapped read-only. The header is validated completely on
// open: JSON syntax, known dtypes, shape/offset agreement, offsets in range, no overlaps.
class SafetensorsFile {
 public:
  [[nodiscard]] static std::unique_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();

  [[nodiscard]] const std::filesystem::path& path() const;
  [[nodiscard]] const std::vector<TensorInfo>& tensors() const;  // header order
  [[nodiscard]] const TensorInfo* find(std::string_view name) const;  // nullptr if absent
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const;  // "__metadata__"

 private:
  SafetensorsFile() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// All tensors of a checkpoint folder: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json` (weight_map). A tensor present in two files, or listed in
// the index but missing from its shard, is an error naming both.
class TensorStore {
 public:
  [[nodiscard]] static TensorStore open_dir(const std::filesystem::path& dir);
  [[nodiscard]] static TensorStore from_files(std::vector<std::unique_ptr<SafetensorsFile>> files);
  // Tensors held in memory (random weights for benchmarks): each `data` points into
  // `storage`, which the store keeps alive. Duplicate names are an error.
  [[nodiscard]] static TensorStore from_memory(std::vector<TensorInfo> tensors, std::shared_ptr<const void> storage);

  [[nodiscard]] const TensorInfo* find(std::string_view name) const;  // nullptr if absent
  [[nodiscard]] std::vector<std::string> names() const;               // sorted
  [[nodiscard]] size_t total_bytes() const;                           // sum of tensor bytes
  // Drops the resident pages of a mapped tensor that has been converted and will not be read
  // again soon (reading it later faults it back in from the file); in-memory stores keep theirs.
  void release_pages(const TensorInfo& tensor) const;
  // The tensor's bytes, writable for reordering in place. Writes stay private to this process:
  // a file is mapped copy-on-write (MAP_PRIVATE) and never changes, and a written page simply
  // stops being shared with the page cache (no second copy of the tensor is ever made).
  [[nodiscard]] std::byte* writable(const TensorInfo& tensor) const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<TensorInfo> memory_tensors_;  // from_memory only; by_name_ points into it
  std::shared_ptr<const void> memory_;
  std::map<std::string, const TensorInfo*, std::less<>> by_name_;
};

// A tensor to write: `data` points at product(shape) * dtype_size(dtype) bytes.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::span<const std::byte> data;
};

// Writes a safetensors file (tensors 8-byte aligned, header padded with spaces).
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Name, dtype and shape of a tensor whose bytes come later.
struct TensorHeader {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

// Writes a safetensors file one tensor at a time, so that a checkpoint larger than memory can
// be produced: the header is written first, then each tensor's bytes in write_order() (widest
// dtype first, which keeps every tensor aligned to its element size). Nothing appears at
// `path` until finish(); destroying an unfinished writer removes its temporary file.
class SafetensorsStreamWriter {
 public:
  SafetensorsStreamWriter(const std::filesystem::path& path, std::vector<TensorHeader> tensors,
                          const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsStreamWriter();
  SafetensorsStreamWriter(const SafetensorsStreamWriter&) = delete;
  SafetensorsStreamWriter& operator=(const SafetensorsStreamWriter&) = delete;

  // Indices into the tensor list, in the order write() must receive them.
  [[nodiscard]] const std::vector<size_t>& write_order() const;
  // Appends the bytes of tensor `index`, which must be the next one of write_order() and
  // hold exactly product(shape) * dtype_size(dtype) bytes. May be called in several pieces
  // (`bytes` then covers the next part of the tensor); the tensor ends when full.
  void write(size_t index, std::span<const std::byte> bytes);
  // Checks that every tensor was written completely, then moves the file into place.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bamba::io

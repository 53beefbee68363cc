// Parsing and validating the header of a safetensors file held in memory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace bamba::io {

// The header length field is rejected above this (the limit of the reference implementation).
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // header order; `data` points into the given bytes
  std::map<std::string, std::string> metadata;
  size_t data_begin = 0;  // file offset of the data section (8 + header length)
};

// Validates everything the header claims against `file` (the whole file's bytes): JSON
// syntax and UTF-8, entry types, known dtypes, shape × dtype size == offset span, offsets
// inside the data section, no two tensors sharing bytes, no duplicate names. Tensors may sit
// at any offset, aligned to their element size or not: kernels load unaligned, so nothing is
// copied. Zero-size tensors are legal. Errors name `path`, the tensor and expected vs found.
[[nodiscard]] SafetensorsHeader parse_safetensors_header(const std::filesystem::path& path,
                                                         std::span<const std::byte> file);

}  // namespace bamba::io

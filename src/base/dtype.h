// Element types of tensors as stored in checkpoint files and in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bamba {

enum class DType : uint8_t { F32, F16, BF16, F8_E4M3, I8, U8, I16, I32, I64, F64, BOOL };

// Bytes per element.
[[nodiscard]] constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16: return 2;
    case DType::F8_E4M3:
    case DType::I8:
    case DType::U8:
    case DType::BOOL: return 1;
  }
  return 0;
}

// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...).
[[nodiscard]] constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F8_E4M3: return "F8_E4M3";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I16: return "I16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::F64: return "F64";
    case DType::BOOL: return "BOOL";
  }
  return "?";
}

// Parses a safetensors dtype name; nullopt for names this engine does not know.
[[nodiscard]] constexpr std::optional<DType> parse_dtype(std::string_view name) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F8_E4M3, DType::I8, DType::U8,
                  DType::I16, DType::I32, DType::I64, DType::F64, DType::BOOL}) {
    if (dtype_name(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace bamba

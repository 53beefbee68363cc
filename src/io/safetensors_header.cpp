// Header validation of safetensors files: every claim is checked before any tensor is used.
#include "io/safetensors_header.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/json_file.h"

namespace bamba::io {

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's tensor order

constexpr std::string_view kMetadataKey = "__metadata__";

[[noreturn]] void fail_tensor(const std::filesystem::path& path, std::string_view tensor, const auto&... what) {
  fail(path.string(), ": tensor '", tensor, "': ", what...);
}

// A value as it appears in an error message: primitives verbatim (long ones cut short),
// containers by their kind, so a message never grows with the input.
std::string describe(const Json& value) {
  if (value.is_structured()) return str_cat("an ", value.type_name());
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  constexpr size_t kMaxChars = 60;
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars) + "...";
  return str_cat(value.type_name(), ' ', text);
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += str_cat(i ? ", " : "", shape[i]);
  return out + "]";
}

std::string known_dtypes() {
  std::string out;
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F8_E4M3, DType::I8, DType::U8, DType::I16,
                  DType::I32, DType::I64, DType::F64, DType::BOOL}) {
    out += str_cat(out.empty() ? "" : ", ", dtype_name(t));
  }
  return out;
}

// Parses the header text and reports the first key repeated inside any object (the DOM
// would silently keep one of the two values).
Json parse_header_json(const std::filesystem::path& path, std::string_view text) {
  std::vector<std::unordered_set<std::string>> open_objects;  // keys seen, innermost last
  std::string top_key;                                        // the tensor being parsed
  std::optional<std::string> duplicate;                       // first repeated key, described
  auto track_keys = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (depth == 1) top_key = key;
      if (!open_objects.back().insert(key).second && !duplicate) {
        duplicate = depth == 1 ? str_cat("tensor '", key, "' appears twice in the header")
                               : str_cat("entry '", top_key, "' has the key '", key, "' twice");
      }
    }
    return true;
  };
  Json root;
  try {
    root = Json::parse(text, track_keys);
  } catch (const Json::exception& e) {
    fail(path.string(), ": header is not valid UTF-8 JSON: ", json_error_reason(e));
  }
  if (duplicate) fail(path.string(), ": ", *duplicate);
  if (!root.is_object()) fail(path.string(), ": header is ", describe(root), ", expected a JSON object");
  return root;
}

std::map<std::string, std::string> parse_metadata(const std::filesystem::path& path, const Json& value) {
  if (!value.is_object()) {
    fail(path.string(), ": \"", kMetadataKey, "\" is ", describe(value), ", expected an object of strings");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(path.string(), ": \"", kMetadataKey, "\" key '", key, "' is ", describe(item), ", expected a string");
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

const Json& required_field(const std::filesystem::path& path, std::string_view tensor, const Json& entry,
                           const char* key) {
  const auto it = entry.find(key);
  if (it == entry.end()) {
    fail_tensor(path, tensor, "missing \"", key, "\" (an entry needs \"dtype\", \"shape\" and \"data_offsets\")");
  }
  return *it;
}

// A non-negative JSON integer, or an error naming `what` (e.g. "shape[1]").
uint64_t non_negative(const std::filesystem::path& path, std::string_view tensor, const Json& value,
                      const std::string& what) {
  if (!value.is_number_unsigned()) {
    fail_tensor(path, tensor, what, " is ", describe(value), ", expected a non-negative integer");
  }
  return value.get<uint64_t>();
}

// One tensor entry; `data` is the data section, offsets are relative to it.
TensorInfo parse_tensor(const std::filesystem::path& path, const std::string& name, const Json& entry,
                        std::span<const std::byte> data) {
  if (!entry.is_object()) {
    fail_tensor(path, name, "entry is ", describe(entry), ", expected an object with dtype, shape, data_offsets");
  }
  TensorInfo info;
  info.name = name;
  info.file = path;

  const Json& dtype = required_field(path, name, entry, "dtype");
  if (!dtype.is_string()) fail_tensor(path, name, "\"dtype\" is ", describe(dtype), ", expected a string");
  const std::optional<DType> parsed_dtype = parse_dtype(dtype.get_ref<const std::string&>());
  if (!parsed_dtype) fail_tensor(path, name, "unknown dtype ", describe(dtype), " (known: ", known_dtypes(), ")");
  info.dtype = *parsed_dtype;

  const Json& shape = required_field(path, name, entry, "shape");
  if (!shape.is_array()) fail_tensor(path, name, "\"shape\" is ", describe(shape), ", expected an array of integers");
  constexpr auto kMaxCount = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t numel = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const uint64_t dim = non_negative(path, name, shape[i], str_cat("shape[", i, "]"));
    if (dim > kMaxCount || __builtin_mul_overflow(numel, dim, &numel) || numel > kMaxCount) {
      fail_tensor(path, name, "shape[", i, "] = ", dim, " makes the element count overflow 63 bits");
    }
    info.shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, dtype_size(info.dtype), &nbytes)) {
    fail_tensor(path, name, "shape ", shape_str(info.shape), " of ", dtype_name(info.dtype),
                " has more bytes than a 64-bit size holds");
  }

  const Json& offsets = required_field(path, name, entry, "data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    fail_tensor(path, name, "\"data_offsets\" is ", describe(offsets), ", expected [begin, end]");
  }
  const uint64_t begin = non_negative(path, name, offsets[0], "data_offsets[0]");
  const uint64_t end = non_negative(path, name, offsets[1], "data_offsets[1]");
  if (end < begin) fail_tensor(path, name, "data_offsets [", begin, ", ", end, "] end before begin");
  if (end - begin != nbytes) {
    fail_tensor(path, name, "data_offsets [", begin, ", ", end, "] span ", end - begin, " bytes, expected ", nbytes,
                " (shape ", shape_str(info.shape), " of ", dtype_name(info.dtype), ", ",
                dtype_size(info.dtype), " bytes each)");
  }
  if (end > data.size()) {
    fail_tensor(path, name, "data_offsets [", begin, ", ", end, "] end past the data section, which has ",
                data.size(), " bytes (truncated file?)");
  }
  info.data = data.data() + begin;
  info.nbytes = static_cast<size_t>(nbytes);
  return info;
}

// Two tensors must not share a byte; zero-size tensors occupy none.
void check_no_overlap(const std::filesystem::path& path, const std::vector<TensorInfo>& tensors) {
  std::vector<const TensorInfo*> by_start;
  for (const TensorInfo& t : tensors) {
    if (t.nbytes > 0) by_start.push_back(&t);
  }
  std::sort(by_start.begin(), by_start.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->data < b->data; });
  for (size_t i = 1; i < by_start.size(); ++i) {
    const TensorInfo& prev = *by_start[i - 1];
    const TensorInfo& next = *by_start[i];
    if (next.data < prev.data + prev.nbytes) {
      fail(path.string(), ": tensors '", prev.name, "' and '", next.name, "' overlap: '", prev.name, "' ends ",
           prev.data + prev.nbytes - next.data, " bytes after '", next.name, "' begins");
    }
  }
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const std::filesystem::path& path, std::span<const std::byte> file) {
  constexpr size_t kLengthBytes = 8;
  if (file.size() < kLengthBytes) {
    fail(path.string(), ": file has ", file.size(),
         " bytes, expected at least 8 (a safetensors file starts with a u64 header length)");
  }
  uint64_t header_len = 0;
  for (size_t i = 0; i < kLengthBytes; ++i) header_len |= uint64_t(std::to_integer<uint8_t>(file[i])) << (8 * i);
  if (header_len > kMaxHeaderBytes) {
    fail(path.string(), ": header length field is ", header_len, " bytes, expected at most ", kMaxHeaderBytes,
         " (not a safetensors file?)");
  }
  if (header_len > file.size() - kLengthBytes) {
    fail(path.string(), ": header length field is ", header_len, " bytes, but only ", file.size() - kLengthBytes,
         " bytes follow it (truncated file?)");
  }

  const std::string_view text(reinterpret_cast<const char*>(file.data()) + kLengthBytes, header_len);
  const Json root = parse_header_json(path, text);

  SafetensorsHeader header;
  header.data_begin = kLengthBytes + header_len;
  const std::span<const std::byte> data = file.subspan(header.data_begin);
  for (const auto& [name, entry] : root.items()) {
    if (name == kMetadataKey) {
      header.metadata = parse_metadata(path, entry);
    } else {
      header.tensors.push_back(parse_tensor(path, name, entry, data));
    }
  }
  check_no_overlap(path, header.tensors);
  return header;
}

}  // namespace bamba::io

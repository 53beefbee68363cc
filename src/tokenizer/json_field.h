// Typed access to the JSON files of a tokenizer folder; every problem becomes a bamba::Error that names
// the file and the field, e.g. `tokenizer.json: field "model.merges": expected an array, found object`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace bamba {

// Reads a whole file; throws bamba::Error naming it when it cannot be read.
[[nodiscard]] std::string read_text_file(const std::filesystem::path& path);

// A JSON value together with the file it came from and its dotted path there.
class JsonField {
 public:
  // Reads and parses `path`; the returned root field owns the document.
  [[nodiscard]] static JsonField read_file(const std::filesystem::path& path);
  // The root field of a document already parsed from `path`.
  [[nodiscard]] static JsonField from_document(nlohmann::json document, const std::filesystem::path& path);

  [[nodiscard]] const nlohmann::json& json() const { return *value_; }
  [[nodiscard]] const std::string& file() const { return *file_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] bool is_null() const { return value_->is_null(); }

  // Required member of an object.
  [[nodiscard]] JsonField at(std::string_view key) const;
  // Member of an object; nullopt when it is absent or null.
  [[nodiscard]] std::optional<JsonField> find(std::string_view key) const;
  // Member of an object, or a null field when it is absent.
  [[nodiscard]] JsonField at_or_null(std::string_view key) const;
  // Element of an array.
  [[nodiscard]] JsonField at(size_t index) const;
  // Number of elements; the field must be an array.
  [[nodiscard]] size_t size() const;

  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] int64_t as_int() const;
  [[nodiscard]] bool as_bool() const;
  // Optional boolean member with a default.
  [[nodiscard]] bool bool_or(std::string_view key, bool fallback) const;
  void require_object() const;
  void require_array() const;

  // Throws bamba::Error naming this field.
  template <class... Args>
  [[noreturn]] void fail(Args&&... args) const {
    if (path_.empty()) bamba::fail(*file_, ": top level: ", std::forward<Args>(args)...);
    bamba::fail(*file_, ": field \"", path_, "\": ", std::forward<Args>(args)...);
  }

 private:
  JsonField(std::shared_ptr<const nlohmann::json> document, const nlohmann::json& value,
            std::shared_ptr<const std::string> file, std::string path)
      : document_(std::move(document)), value_(&value), file_(std::move(file)), path_(std::move(path)) {}
  [[nodiscard]] std::string child_path(std::string_view key) const;

  std::shared_ptr<const nlohmann::json> document_;  // keeps `value_` alive
  const nlohmann::json* value_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
};

}  // namespace bamba

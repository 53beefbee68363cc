// Reads JSON files and checks field types, so loaders never see an nlohmann exception.
#include "tokenizer/json_field.h"

#include <fstream>
#include <sstream>

namespace bamba {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail(path.string(), ": read error");
  return std::move(buffer).str();
}

JsonField JsonField::read_file(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  try {
    return from_document(nlohmann::json::parse(text), path);
  } catch (const nlohmann::json::exception& e) {
    bamba::fail(path.string(), ": malformed JSON: ", e.what());
  }
}

JsonField JsonField::from_document(nlohmann::json document, const std::filesystem::path& path) {
  auto owned = std::make_shared<const nlohmann::json>(std::move(document));
  const nlohmann::json& root = *owned;
  return JsonField(std::move(owned), root, std::make_shared<const std::string>(path.string()), "");
}

std::string JsonField::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : str_cat(path_, ".", key);
}

JsonField JsonField::at(std::string_view key) const {
  require_object();
  const auto it = value_->find(key);
  if (it == value_->end()) bamba::fail(*file_, ": missing field \"", child_path(key), "\"");
  return JsonField(document_, *it, file_, child_path(key));
}

std::optional<JsonField> JsonField::find(std::string_view key) const {
  require_object();
  const auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonField(document_, *it, file_, child_path(key));
}

JsonField JsonField::at_or_null(std::string_view key) const {
  static const nlohmann::json null_value;
  require_object();
  const auto it = value_->find(key);
  return JsonField(document_, it == value_->end() ? null_value : *it, file_, child_path(key));
}

JsonField JsonField::at(size_t index) const {
  require_array();
  if (index >= value_->size()) fail("index ", index, " out of range");
  return JsonField(document_, (*value_)[index], file_, str_cat(path_, "[", index, "]"));
}

size_t JsonField::size() const {
  require_array();
  return value_->size();
}

const std::string& JsonField::as_string() const {
  if (!value_->is_string()) fail("expected a string, found ", value_->type_name());
  return value_->get_ref<const std::string&>();
}

int64_t JsonField::as_int() const {
  if (!value_->is_number_integer()) fail("expected an integer, found ", value_->type_name());
  return value_->get<int64_t>();
}

bool JsonField::as_bool() const {
  if (!value_->is_boolean()) fail("expected a boolean, found ", value_->type_name());
  return value_->get<bool>();
}

bool JsonField::bool_or(std::string_view key, bool fallback) const {
  const auto field = find(key);
  return field ? field->as_bool() : fallback;
}

void JsonField::require_object() const {
  if (!value_->is_object()) fail("expected an object, found ", value_->type_name());
}

void JsonField::require_array() const {
  if (!value_->is_array()) fail("expected an array, found ", value_->type_name());
}

}  // namespace bamba

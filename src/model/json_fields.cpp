// Typed key reads for the config parsers (see json_fields.h).
#include "model/json_fields.h"

#include <cmath>
#include <limits>

#include "base/error.h"

namespace bamba {

std::string json_brief(const nlohmann::json& value) {
  if (value.is_number_float() && !std::isfinite(value.get<double>())) {
    const double v = value.get<double>();
    return std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
  }
  std::string text = value.dump();
  constexpr size_t kMax = 80;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  const char* type = value.type_name();
  return str_cat(text, " (", type, ")");
}

JsonFields::JsonFields(const nlohmann::json& j, std::string source) : j_(j), source_(std::move(source)) {
  if (!j_.is_object()) fail(source_, ": expected a JSON object at the top level, found ", json_brief(j_));
}

const nlohmann::json* JsonFields::find(std::string_view key) const {
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return nullptr;
  return &*it;
}

void JsonFields::fail_key(std::string_view key, std::string_view expected, std::string_view found) const {
  fail(source_, ": key '", key, "': expected ", expected, ", found ", found);
}

void JsonFields::fail_value(std::string_view key, std::string_view expected, const nlohmann::json& found) const {
  fail_key(key, expected, json_brief(found));
}

std::optional<int64_t> JsonFields::optional_int(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_number_integer() && !v->is_number_unsigned()) return v->get<int64_t>();
  if (v->is_number_unsigned() && v->get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max())) {
    return int64_t(v->get<uint64_t>());
  }
  fail_value(key, "an integer", *v);
}

int64_t JsonFields::get_int(std::string_view key, int64_t fallback) const {
  return optional_int(key).value_or(fallback);
}

std::optional<double> JsonFields::optional_number(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) fail_value(key, "a number", *v);
  return v->get<double>();
}

double JsonFields::get_number(std::string_view key, double fallback) const {
  return optional_number(key).value_or(fallback);
}

std::optional<bool> JsonFields::optional_bool(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail_value(key, "true or false", *v);
  return v->get<bool>();
}

bool JsonFields::get_bool(std::string_view key, bool fallback) const {
  return optional_bool(key).value_or(fallback);
}

std::optional<std::string> JsonFields::optional_string(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail_value(key, "a string", *v);
  return v->get<std::string>();
}

namespace {
bool is_token_id(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= uint64_t(std::numeric_limits<int32_t>::max());
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    return x >= 0 && x <= std::numeric_limits<int32_t>::max();
  }
  return false;
}
}  // namespace

std::optional<int32_t> JsonFields::optional_token_id(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!is_token_id(*v)) fail_value(key, "a token id (integer in [0, 2^31))", *v);
  return int32_t(v->get<int64_t>());
}

std::vector<int32_t> JsonFields::token_id_list(std::string_view key) const {
  const nlohmann::json* v = find(key);
  if (!v) return {};
  if (is_token_id(*v)) return {int32_t(v->get<int64_t>())};
  if (!v->is_array()) fail_value(key, "a token id or a list of token ids", *v);
  std::vector<int32_t> ids;
  for (const nlohmann::json& e : *v) {
    if (!is_token_id(e)) fail_value(key, "a list of token ids (integers in [0, 2^31))", *v);
    ids.push_back(int32_t(e.get<int64_t>()));
  }
  return ids;
}

}  // namespace bamba

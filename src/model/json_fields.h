// Typed reads of one JSON object's keys for the config parsers: absent or null keys take
// defaults, a wrong JSON type is an error naming the source file, the key, what was expected
// and what was found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace bamba {

class JsonFields {
 public:
  // Fails unless `j` is a JSON object.
  JsonFields(const nlohmann::json& j, std::string source);

  [[nodiscard]] const std::string& source() const { return source_; }
  // Whether the key is present (null included).
  [[nodiscard]] bool has(std::string_view key) const { return j_.contains(key); }
  // The key's value, or nullptr when it is absent or null.
  [[nodiscard]] const nlohmann::json* find(std::string_view key) const;

  [[nodiscard]] std::optional<int64_t> optional_int(std::string_view key) const;
  [[nodiscard]] int64_t get_int(std::string_view key, int64_t fallback) const;
  [[nodiscard]] std::optional<double> optional_number(std::string_view key) const;
  [[nodiscard]] double get_number(std::string_view key, double fallback) const;
  [[nodiscard]] std::optional<bool> optional_bool(std::string_view key) const;
  [[nodiscard]] bool get_bool(std::string_view key, bool fallback) const;
  [[nodiscard]] std::optional<std::string> optional_string(std::string_view key) const;
  // A token id (int32, >= 0), or nullopt when absent or null.
  [[nodiscard]] std::optional<int32_t> optional_token_id(std::string_view key) const;
  // An int or a list of ints (token ids such as eos_token_id); empty when absent or null.
  [[nodiscard]] std::vector<int32_t> token_id_list(std::string_view key) const;

  // Throws: "<source>: key '<key>': expected <expected>, found <found>".
  [[noreturn]] void fail_key(std::string_view key, std::string_view expected,
                             std::string_view found) const;
  // The same, showing the JSON value found.
  [[noreturn]] void fail_value(std::string_view key, std::string_view expected,
                               const nlohmann::json& found) const;

 private:
  const nlohmann::json& j_;
  std::string source_;
};

// A short rendering of a JSON value for error messages.
[[nodiscard]] std::string json_brief(const nlohmann::json& value);

}  // namespace bamba

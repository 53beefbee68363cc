// ApiError: a request that cannot be served, with its HTTP status and the fields of
// OpenAI's error object ({"error": {"message", "type", "param", "code"}}).
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace bamba::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = {}, std::string code = {});
  int status;
  std::string type;   // invalid_request_error, authentication_error, ...: from the status
  std::string param;  // the request field at fault, or empty
  std::string code;
  [[nodiscard]] nlohmann::json to_json() const;
};

// 400 naming the field.
[[nodiscard]] ApiError invalid_field(const std::string& param, const std::string& message);

}  // namespace bamba::server

// OpenAI error objects; see api_error.h.
#include "server/api_error.h"

namespace bamba::server {
namespace {

const char* type_for_status(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace

ApiError::ApiError(int http_status, std::string message, std::string field, std::string error_code)
    : std::runtime_error(std::move(message)),
      status(http_status),
      type(type_for_status(http_status)),
      param(std::move(field)),
      code(std::move(error_code)) {}

nlohmann::json ApiError::to_json() const {
  nlohmann::json error = {{"message", what()}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (!param.empty()) error["param"] = param;
  if (!code.empty()) error["code"] = code;
  return {{"error", error}};
}

ApiError invalid_field(const std::string& param, const std::string& message) {
  return ApiError(400, message, param);
}

}  // namespace bamba::server

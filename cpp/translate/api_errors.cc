#include "translate/api_errors.h"

#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/response.h"
#include "translate/json_member.h"

namespace aigw::translate {

namespace {

// An error body that is no JSON (a proxy's HTML page) is still the best message there is; a
// bound keeps a huge one out of the client's answer.
constexpr size_t kMaxRawMessage = 1024;

std::string messageOf(std::string_view body, const nlohmann::json& error) {
  const std::string_view message = memberString(error, "message");
  if (!message.empty()) return std::string(message);
  return std::string(body.substr(0, kMaxRawMessage));
}

}  // namespace

const char* anthropicErrorTypeForStatus(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 408:
    case 504:
      return "timeout_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

int statusForAnthropicErrorType(std::string_view type) {
  static constexpr int kStatuses[] = {400, 401, 402, 403, 404, 408, 413, 429, 529};
  for (int status : kStatuses) {
    if (type == anthropicErrorTypeForStatus(status)) return status;
  }
  return 500;
}

std::string anthropicErrorBody(std::string_view type, std::string_view message) {
  std::string out = "{\"type\":\"error\",\"error\":{\"type\":";
  appendJsonString(out, type);
  out += ",\"message\":";
  appendJsonString(out, message);
  out += "}}";
  return out;
}

ApiError anthropicErrorFromOpenAi(int status, std::string_view body) {
  const nlohmann::json doc = parseJson(body);
  ApiError out;
  out.status = status == 503 ? 529 : status;
  out.body = anthropicErrorBody(anthropicErrorTypeForStatus(out.status), messageOf(body, member(doc, "error")));
  return out;
}

ApiError openAiErrorFromAnthropic(int status, std::string_view body) {
  const nlohmann::json doc = parseJson(body);
  const nlohmann::json& error = member(doc, "error");
  ApiError out;
  out.status = status == 529 ? 503 : status;
  out.body =
      http::openAiErrorBody(messageOf(body, error), http::errorTypeForStatus(out.status), memberString(error, "type"));
  return out;
}

}  // namespace aigw::translate

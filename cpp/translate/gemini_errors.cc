#include "translate/gemini_errors.h"

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

// The "error" object of a Google error body, in its object or list form.
const nlohmann::json& errorOf(const nlohmann::json& doc) {
  return member(doc.is_array() && !doc.empty() ? doc[0] : doc, "error");
}

std::string messageOf(std::string_view body, const nlohmann::json& error) {
  const std::string_view message = memberString(error, "message");
  return std::string(message.empty() ? body.substr(0, kMaxRawMessage) : message);
}

}  // namespace

const char* googleStatusForHttpStatus(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

std::string geminiErrorBody(int status, std::string_view message) {
  std::string out = "{\"error\":{\"code\":";
  appendJsonNumber(out, static_cast<int64_t>(status));
  out += ",\"message\":";
  appendJsonString(out, message);
  out += ",\"status\":\"";
  out += googleStatusForHttpStatus(status);
  out += "\"}}";
  return out;
}

ApiError openAiErrorFromGemini(int status, std::string_view body) {
  const nlohmann::json doc = parseJson(body);
  const nlohmann::json& error = errorOf(doc);
  ApiError out;
  out.status = status;
  out.body =
      http::openAiErrorBody(messageOf(body, error), http::errorTypeForStatus(status), memberString(error, "status"));
  return out;
}

ApiError geminiErrorFromOpenAi(int status, std::string_view body) {
  const nlohmann::json doc = parseJson(body);
  ApiError out;
  out.status = status;
  out.body = geminiErrorBody(status, messageOf(body, member(doc, "error")));
  return out;
}

}  // namespace aigw::translate

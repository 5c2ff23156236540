#include "translate/bedrock_errors.h"

#include <nlohmann/json.hpp>
#include <string>

#include "core/json_parse.h"
#include "core/json_text.h"
#include "http/response.h"
#include "translate/json_member.h"

namespace aigw::translate {

namespace {

// An error body that is no JSON (a proxy's HTML page) is still the best message there is; a
// bound keeps a huge one out of the client's answer.
constexpr size_t kMaxRawMessage = 1024;

struct KnownException {
  std::string_view name;
  int status;
};

constexpr KnownException kExceptions[] = {
    {"ValidationException", 400},         {"AccessDeniedException", 403},      {"ResourceNotFoundException", 404},
    {"ThrottlingException", 429},         {"ServiceQuotaExceededException", 429}, {"InternalServerException", 500},
    {"ModelErrorException", 502},         {"ModelStreamErrorException", 502},  {"ModelNotReadyException", 503},
    {"ServiceUnavailableException", 503}, {"ModelTimeoutException", 504},
};

// Equal but for the case of the first letter: streams name exceptions in lower camel case.
bool sameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; };
  return upper(a[0]) == upper(b[0]) && a.substr(1) == b.substr(1);
}

}  // namespace

std::string_view bedrockExceptionName(std::string_view type) {
  const size_t colon = type.find(':');
  if (colon != std::string_view::npos) type = type.substr(0, colon);
  const size_t hash = type.rfind('#');
  if (hash != std::string_view::npos) type = type.substr(hash + 1);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type;
}

int statusForBedrockException(std::string_view name, int status) {
  for (const KnownException& e : kExceptions) {
    if (sameName(e.name, name)) return e.status;
  }
  return status;
}

ApiError openAiErrorFromBedrock(int status, std::string_view body, std::string_view error_type_header) {
  const nlohmann::json doc = parseJson(body);
  std::string_view name = bedrockExceptionName(error_type_header);
  if (name.empty()) name = bedrockExceptionName(memberString(doc, "__type"));
  std::string code(name);
  if (!code.empty()) code[0] = char(code[0] >= 'a' && code[0] <= 'z' ? code[0] - 'a' + 'A' : code[0]);
  std::string_view message = memberString(doc, "message", memberString(doc, "Message"));
  if (message.empty()) message = body.substr(0, kMaxRawMessage);
  ApiError out;
  out.status = statusForBedrockException(name, status);
  out.body = http::openAiErrorBody(message, http::errorTypeForStatus(out.status), code);
  return out;
}

std::string_view bedrockExceptionForStatus(int status) {
  switch (status) {
    case 401: return "UnrecognizedClientException";
    case 403: return "AccessDeniedException";
    case 404: return "ResourceNotFoundException";
    case 408:
    case 504: return "ModelTimeoutException";
    case 429: return "ThrottlingException";
    case 502: return "ModelErrorException";
    case 503: return "ServiceUnavailableException";
    default: return status >= 500 ? "InternalServerException" : "ValidationException";
  }
}

std::string bedrockErrorBody(std::string_view message) {
  std::string out = "{\"message\":";
  appendJsonString(out, message);
  out += '}';
  return out;
}

ApiError bedrockErrorFromOpenAi(int status, std::string_view body) {
  const nlohmann::json doc = parseJson(body);
  std::string_view message = memberString(member(doc, "error"), "message");
  if (message.empty()) message = body.substr(0, kMaxRawMessage);
  return ApiError{status, bedrockErrorBody(message)};
}

}  // namespace aigw::translate

// Error answers across APIs: an upstream's error in the shape and status vocabulary of the
// client's API (OpenAI {"error":{...}} <-> Anthropic {"type":"error","error":{...}}).
#pragma once

#include <string>
#include <string_view>

namespace aigw::translate {

struct ApiError {
  int status = 0;
  std::string body;
};

// Anthropic's error type for a status: 400 invalid_request_error, 401 authentication_error,
// 402 billing_error, 403 permission_error, 404 not_found_error, 408/504 timeout_error,
// 413 request_too_large, 429 rate_limit_error, 529 overloaded_error, other 5xx api_error,
// other 4xx invalid_request_error.
const char* anthropicErrorTypeForStatus(int status);

// The status Anthropic sends with an error type (the inverse of the above; api_error and
// anything unknown: 500). For error events inside a stream, which carry a type and no status.
int statusForAnthropicErrorType(std::string_view type);

// {"type":"error","error":{"type":...,"message":...}}: also for the gateway's own errors on
// /v1/messages.
std::string anthropicErrorBody(std::string_view type, std::string_view message);

// An OpenAI-shaped error answer for an Anthropic client. The message is kept (the raw body when
// it is no OpenAI error); the type follows the status; 503 becomes 529 overloaded_error, the
// status Anthropic clients treat as "try later".
ApiError anthropicErrorFromOpenAi(int status, std::string_view body);

// An Anthropic error answer for an OpenAI client. The message is kept, the type follows the
// status (http::errorTypeForStatus) and Anthropic's own type becomes the code; 529 becomes 503,
// the status OpenAI clients know.
ApiError openAiErrorFromAnthropic(int status, std::string_view body);

}  // namespace aigw::translate

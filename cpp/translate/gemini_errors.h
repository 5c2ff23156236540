// Error answers between OpenAI's shape and Google's ({"error":{"code":400,"message":...,
// "status":"INVALID_ARGUMENT"}}): an upstream Gemini error for an OpenAI client, and the mock's
// Gemini errors.
#pragma once

#include <string>
#include <string_view>

#include "translate/api_errors.h"

namespace aigw::translate {

// Google's status name for an HTTP status: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED,
// 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ABORTED, 429 RESOURCE_EXHAUSTED, 499 CANCELLED,
// 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, other 5xx INTERNAL, other 4xx FAILED_PRECONDITION.
const char* googleStatusForHttpStatus(int status);

// {"error":{"code":status,"message":...,"status":googleStatusForHttpStatus(status)}}
std::string geminiErrorBody(int status, std::string_view message);

// A Gemini error answer for an OpenAI client: the status is kept, the message is kept (the raw
// body, bounded, when it is no Google error; Google's list form [{"error":...}] is read too),
// the type follows the status (http::errorTypeForStatus) and Google's status name becomes the code.
ApiError openAiErrorFromGemini(int status, std::string_view body);

// An OpenAI error answer for a Gemini client (the mock speaking Gemini): status and message kept.
ApiError geminiErrorFromOpenAi(int status, std::string_view body);

}  // namespace aigw::translate

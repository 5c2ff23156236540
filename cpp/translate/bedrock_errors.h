// Bedrock's errors in OpenAI's shape: a whole error answer (status, body, x-amzn-errortype)
// and the exceptions a ConverseStream sends as event-stream messages; and the reverse, for
// clients of the gateway's own Converse API.
#pragma once

#include <string_view>

#include "translate/api_errors.h"

namespace aigw::translate {

// The bare exception name of an x-amzn-errortype value ("ThrottlingException:http://internal..."),
// a body's "__type" ("com.amazon.coral.validate#ValidationException") or a stream's
// :exception-type ("throttlingException", lower camel case), upper camel case in all three.
std::string_view bedrockExceptionName(std::string_view type);

// The status an OpenAI client gets for a Bedrock exception, `status` when the name is unknown:
// ValidationException 400, AccessDeniedException 403, ResourceNotFoundException 404,
// ThrottlingException and ServiceQuotaExceededException 429, InternalServerException 500,
// ModelErrorException and ModelStreamErrorException 502 (the model failed, not the request),
// ModelNotReadyException and ServiceUnavailableException 503 (retry later), ModelTimeoutException 504.
int statusForBedrockException(std::string_view name, int status);

// An OpenAI error answer for a Bedrock error answer: the message kept ("message" or "Message",
// else the raw body, capped), the status as above, the exception name as the code.
ApiError openAiErrorFromBedrock(int status, std::string_view body, std::string_view error_type_header);

// The exception a Bedrock client is told of (x-amzn-errortype) for a status: 401
// UnrecognizedClientException, 403 AccessDeniedException, 404 ResourceNotFoundException, 408 and
// 504 ModelTimeoutException, 429 ThrottlingException, 502 ModelErrorException, 503
// ServiceUnavailableException, other 5xx InternalServerException, other 4xx ValidationException.
std::string_view bedrockExceptionForStatus(int status);

// {"message":...}: Bedrock's error body (the exception's name travels in x-amzn-errortype).
std::string bedrockErrorBody(std::string_view message);

// An OpenAI error answer for a Bedrock client: the status kept, the message kept (the raw body,
// bounded, when it is no OpenAI error).
ApiError bedrockErrorFromOpenAi(int status, std::string_view body);

}  // namespace aigw::translate

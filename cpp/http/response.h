// Serialization of HTTP/1.1 response heads, chunked framing, and the gateway's error bodies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.h"

namespace aigw::http {

const char* reasonPhrase(int status);
// "HTTP/1.1 200 OK\r\n"
void appendStatusLine(std::string& out, int status);
void appendHeader(std::string& out, std::string_view name, std::string_view value);
// The current time as an IMF-fixdate, cached per thread and refreshed once a second.
std::string_view httpDate();
// One chunk of a chunked body: "<hex size>\r\n<data>\r\n" (nothing for empty data).
void appendChunk(std::string& out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The OpenAI error envelope: {"error":{"message","type","param","code"}}. Empty `param`/`code`
// become null.
std::string openAiErrorBody(std::string_view message, std::string_view type, std::string_view code = {},
                            std::string_view param = {});
// The OpenAI error `type` for an HTTP status (400 -> invalid_request_error, 429 -> rate_limit_error ...).
const char* errorTypeForStatus(int status);

}  // namespace aigw::http

#include "http/response.h"

#include <charconv>
#include <ctime>

#include "core/json_text.h"

namespace aigw::http {

const char* reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 529: return "Site Overloaded";
    default: return status < 200 ? "Informational" : status < 300 ? "Success" : status < 400 ? "Redirection"
                    : status < 500 ? "Client Error" : "Server Error";
  }
}

void appendStatusLine(std::string& out, int status) {
  char code[4] = {static_cast<char>('0' + (status / 100) % 10), static_cast<char>('0' + (status / 10) % 10),
                  static_cast<char>('0' + status % 10), ' '};
  out.append("HTTP/1.1 ");
  out.append(code, 4);
  out.append(reasonPhrase(status));
  out.append("\r\n");
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  // Last line of defence against response splitting: whatever put a CR, LF or NUL into a value
  // (a client's model name, an upstream's header), it never starts a new header line here.
  if (value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) {
    out.append(value);
  } else {
    for (char c : value) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
  }
  out.append("\r\n");
}

std::string_view httpDate() {
  thread_local time_t cached_second = 0;
  thread_local char buf[32];
  thread_local size_t len = 0;
  time_t now = ::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    len = strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return std::string_view(buf, len);
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char hex[20];
  auto res = std::to_chars(hex, hex + sizeof(hex), data.size(), 16);
  out.append(hex, res.ptr);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

std::string openAiErrorBody(std::string_view message, std::string_view type, std::string_view code,
                            std::string_view param) {
  std::string out;
  out.reserve(96 + message.size());
  out.append("{\"error\":{\"message\":");
  appendJsonString(out, message);
  out.append(",\"type\":");
  appendJsonString(out, type);
  out.append(",\"param\":");
  appendJsonStringOrNull(out, param);
  out.append(",\"code\":");
  appendJsonStringOrNull(out, code);
  out.append("}}");
  return out;
}

const char* errorTypeForStatus(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 408: return "timeout_error";
    case 429: return "rate_limit_error";
    default:
      if (status >= 500) return status == 503 ? "service_unavailable_error" : "server_error";
      return "invalid_request_error";
  }
}

}  // namespace aigw::http

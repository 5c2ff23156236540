#include "http/credential_headers.h"

#include "core/json_text.h"

namespace aigw::http {

bool isClientCredential(std::string_view n) {
  return n == "authorization" || n == "proxy-authorization" || n == "x-api-key" || n == "api-key" || n == "cookie";
}

bool looksLikeCredential(std::string_view name) {
  if (isClientCredential(name)) return true;
  for (std::string_view word : {"key", "token", "secret", "auth", "password"}) {
    if (name.find(word) != std::string_view::npos) return true;
  }
  return false;
}

void appendHeadersJsonWithoutCredentials(std::string& out, const HeaderList& headers) {
  out += '{';
  bool first = true;
  for (const auto& h : headers) {
    if (isClientCredential(h.name)) continue;
    if (!first) out += ',';
    first = false;
    appendJsonString(out, h.name);
    out += ':';
    appendJsonString(out, h.value);
  }
  out += '}';
}

}  // namespace aigw::http

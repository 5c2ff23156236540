// Where a provider lives: scheme, host, port and base path, parsed once from its base_url.
#pragma once

#include <string>
#include <string_view>

namespace aigw::upstream {

struct Origin {
  bool tls = false;
  std::string host;        // without brackets for IPv6 literals
  int port = 0;
  std::string base_path;   // e.g. "/v1" (no trailing slash; may be empty)
  std::string host_header; // e.g. "api.openai.com" or "[::1]:8080" (port omitted when default)

  // "https://api.openai.com:443" — identifies a connection pool.
  std::string key() const;
  // "api.openai.com:443": how connect, TLS and read errors name the origin.
  std::string hostPort() const { return host + ":" + std::to_string(port); }
};

// Accepts http:// and https:// URLs (scheme in any case) without credentials, query or
// fragment; the host (lower-cased) must be a valid name, IPv4 or bracketed IPv6 address.
bool parseBaseUrl(std::string_view url, Origin* out, std::string* error);

}  // namespace aigw::upstream

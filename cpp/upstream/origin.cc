#include "upstream/origin.h"

#include <charconv>

namespace aigw::upstream {

std::string Origin::key() const {
  std::string k = tls ? "https://" : "http://";
  k += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  k += ":" + std::to_string(port);
  return k;
}

bool parseBaseUrl(std::string_view url, Origin* out, std::string* error) {
  Origin o;
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    o.tls = true;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    *error = "base_url must start with http:// or https://";
    return false;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    *error = "base_url must not have a query or fragment";
    return false;
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    *error = "base_url must not contain credentials (use api_key)";
    return false;
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "base_url has an unterminated IPv6 address";
      return false;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        *error = "base_url has junk after the IPv6 address";
        return false;
      }
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) {
    *error = "base_url has no host";
    return false;
  }
  o.host = std::string(host);
  o.port = o.tls ? 443 : 80;
  if (!port.empty()) {
    int p = 0;
    auto res = std::from_chars(port.data(), port.data() + port.size(), p);
    if (res.ec != std::errc() || res.ptr != port.data() + port.size() || p < 1 || p > 65535) {
      *error = "base_url has an invalid port";
      return false;
    }
    o.port = p;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  o.base_path = std::string(path);
  const bool default_port = o.port == (o.tls ? 443 : 80);
  o.host_header = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  if (!default_port) o.host_header += ":" + std::to_string(o.port);
  *out = std::move(o);
  return true;
}

}  // namespace aigw::upstream

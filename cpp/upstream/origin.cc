#include "upstream/origin.h"

#include <cctype>
#include <charconv>

namespace aigw::upstream {
namespace {

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// RFC 3986 reg-name (unreserved, pct-encoded, sub-delims): what may go into a Host header.
bool validRegName(std::string_view host) {
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) continue;
    if (std::string_view("-._~%!$&'()*+,;=").find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool validIpv6(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':' && c != '.') return false;
  }
  return true;
}

// Path characters that would break the request line (controls, space, DEL) are refused.
bool validPath(std::string_view path) {
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string Origin::key() const {
  std::string k = tls ? "https://" : "http://";
  k += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  k += ":" + std::to_string(port);
  return k;
}

bool parseBaseUrl(std::string_view url, Origin* out, std::string* error) {
  Origin o;
  std::string_view rest;
  if (startsWithIgnoreCase(url, "https://")) {
    o.tls = true;
    rest = url.substr(8);
  } else if (startsWithIgnoreCase(url, "http://")) {
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
    if (!host.empty() && !validIpv6(host)) {
      *error = "base_url has an invalid IPv6 address";
      return false;
    }
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
    if (host.find(':') != std::string_view::npos) {
      *error = "base_url has an IPv6 address without brackets (write http://[::1]:8000)";
      return false;
    }
    if (!validRegName(host)) {
      *error = "base_url has invalid characters in its host";
      return false;
    }
  }
  if (host.empty()) {
    *error = "base_url has no host";
    return false;
  }
  if (!validPath(path)) {
    *error = "base_url has spaces or control characters in its path";
    return false;
  }
  o.host = std::string(host);
  // Host names are case-insensitive: one spelling, one pool.
  for (char& c : o.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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

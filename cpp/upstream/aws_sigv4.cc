#include "upstream/aws_sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>
#include <vector>

namespace aigw::upstream {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Digest hmac(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return out;
}

std::string_view view(const Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

void appendHex(std::string& out, const Digest& d) {
  for (unsigned char c : d) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
}

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void appendUriEncoded(std::string& out, std::string_view text, bool keep_slash) {
  for (unsigned char c : text) {
    if (isUnreserved(c) || (keep_slash && c == '/')) {
      out += char(c);
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 15];
    }
  }
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

// A header value in canonical form: trimmed, each run of spaces and tabs one space (botocore:
// ' '.join(value.split())).
void appendCanonicalValue(std::string& out, std::string_view value) {
  bool wrote = false, pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending_space = true;
      continue;
    }
    if (pending_space && wrote) out += ' ';
    pending_space = false;
    wrote = true;
    out += c;
  }
}

// Query pairs sorted by name, then value; not re-encoded (the query is signed as sent, as
// botocore signs a URL's query), "name" alone becomes "name=".
void appendCanonicalQuery(std::string& out, std::string_view query) {
  if (query.empty()) return;
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      pairs.emplace_back(pair, std::string_view());
    else
      pairs.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    pos = amp + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += '&';
    out += pairs[i].first;
    out += '=';
    out += pairs[i].second;
  }
}

std::string amzDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

std::string awsUriEncode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size() + 16);
  appendUriEncoded(out, text, keep_slash);
  return out;
}

std::string sigV4CanonicalPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(pos, slash - pos);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    pos = slash + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    appendUriEncoded(out, segments[i], false);
  }
  if (!segments.empty() && path.back() == '/') out += '/';
  return out;
}

SigV4Headers signSigV4(const SigV4Request& request, const AwsCredentials& credentials, std::string_view region,
                       std::string_view service, int64_t unix_seconds) {
  SigV4Headers out;
  out.amz_date = amzDate(unix_seconds);
  const std::string_view date = std::string_view(out.amz_date).substr(0, 8);
  out.security_token = credentials.session_token;
  std::string body_hash;
  appendHex(body_hash, sha256(request.body));
  if (request.sign_content_sha256) out.content_sha256 = body_hash;

  // The headers signed: lower-case names, sorted, repeated names joined with ','.
  std::vector<std::pair<std::string, std::string_view>> headers;
  headers.reserve(request.headers.size() + 4);
  auto add = [&headers](std::string_view name, std::string_view value) {
    std::string lowered(name);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), lower);
    headers.emplace_back(std::move(lowered), value);
  };
  for (const SigV4Header& h : request.headers) add(h.name, h.value);
  add("host", request.host);
  add("x-amz-date", out.amz_date);
  if (!out.security_token.empty()) add("x-amz-security-token", out.security_token);
  if (!out.content_sha256.empty()) add("x-amz-content-sha256", out.content_sha256);
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical;
  canonical.reserve(512);
  canonical += request.method;
  canonical += '\n';
  canonical += sigV4CanonicalPath(request.path);
  canonical += '\n';
  appendCanonicalQuery(canonical, request.query);
  canonical += '\n';
  std::string signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    const bool repeat = i > 0 && headers[i].first == headers[i - 1].first;
    if (repeat) {
      canonical.back() = ',';  // replaces the previous value's '\n'
    } else {
      if (!signed_headers.empty()) signed_headers += ';';
      signed_headers += headers[i].first;
      canonical += headers[i].first;
      canonical += ':';
    }
    appendCanonicalValue(canonical, headers[i].second);
    canonical += '\n';
  }
  canonical += '\n';
  canonical += signed_headers;
  canonical += '\n';
  canonical += body_hash;

  std::string scope;
  scope += date;
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += "/aws4_request";

  std::string to_sign;
  to_sign += kAlgorithm;
  to_sign += '\n';
  to_sign += out.amz_date;
  to_sign += '\n';
  to_sign += scope;
  to_sign += '\n';
  appendHex(to_sign, sha256(canonical));

  std::string secret = "AWS4";
  secret += credentials.secret_access_key;
  Digest key = hmac(secret, date);
  OPENSSL_cleanse(secret.data(), secret.size());  // no copy of the secret outlives the call
  key = hmac(view(key), region);
  key = hmac(view(key), service);
  key = hmac(view(key), "aws4_request");
  const Digest signature = hmac(view(key), to_sign);
  OPENSSL_cleanse(key.data(), key.size());

  out.authorization.reserve(160 + signed_headers.size());
  out.authorization += kAlgorithm;
  out.authorization += " Credential=";
  out.authorization += credentials.access_key_id;
  out.authorization += '/';
  out.authorization += scope;
  out.authorization += ", SignedHeaders=";
  out.authorization += signed_headers;
  out.authorization += ", Signature=";
  appendHex(out.authorization, signature);
  return out;
}

}  // namespace aigw::upstream

#include "upstream/header_policy.h"

#include "http/credential_headers.h"

namespace aigw::upstream {
namespace {

bool isHopByHop(std::string_view n) {
  return n == "connection" || n == "keep-alive" || n == "proxy-connection" || n == "te" || n == "trailer" ||
         n == "transfer-encoding" || n == "upgrade";
}

bool namedByConnection(const http::HeaderList& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == "connection" && http::headerHasToken(h.value, name)) return true;
  }
  return false;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool dropFromRequest(std::string_view n) {
  return isHopByHop(n) || n == "host" || n == "content-length" || n == "expect" ||
         // Client credentials: the provider's key replaces them.
         http::isClientCredential(n) || n == "openai-organization" || n == "openai-project" ||
         // We relay bodies byte for byte and inspect them: no compression upstream.
         n == "accept-encoding" ||
         // Addressing is ours to decide.
         n == "forwarded" || startsWith(n, "x-forwarded-") || startsWith(n, "x-aigw-");
}

bool gatewayOwned(std::string_view n) {
  return isHopByHop(n) || n == "host" || n == "content-length" || n == "expect" || n == "accept-encoding";
}

bool dropFromResponse(std::string_view n) {
  return isHopByHop(n) || n == "content-length" || n == "date" || n == "server" || n == "set-cookie" ||
         n == "alt-svc" || n == "strict-transport-security" || startsWith(n, "x-aigw-");
}

}  // namespace

void copyForwardableRequestHeaders(const http::HeaderList& client, http::HeaderList* out) {
  for (const auto& h : client) {
    if (dropFromRequest(h.name) || namedByConnection(client, h.name)) continue;
    out->add(h.name, h.value);
  }
}

void applyConfiguredRequestHeaders(const http::HeaderList& configured, http::HeaderList* out) {
  for (const auto& h : configured) {
    if (!gatewayOwned(h.name)) out->set(h.name, h.value);
  }
}

void copyForwardableResponseHeaders(const http::HeaderList& upstream, http::HeaderList* out) {
  for (const auto& h : upstream) {
    if (dropFromResponse(h.name) || namedByConnection(upstream, h.name)) continue;
    out->add(h.name, h.value);
  }
}

}  // namespace aigw::upstream
